//! The fuzz loop: seeded, corpus-based, mutational, with behaviour
//! feedback, on stable Rust.
//!
//! For one target: every file of `corpus/<target>/` and
//! `regressions/<target>/` is run first, then, until the time is up,
//! inputs made by mutating corpus inputs (bit flips, byte inserts, deletes
//! and duplicates, interesting integers, dictionary tokens, splices of two
//! inputs, truncation; see [`crate::mutate`]) or generated from scratch by
//! the target. An input that shows a new feature (see [`crate::feature`]:
//! an error of a new kind, an outcome of a new shape) joins the in-memory
//! corpus. With no coverage instrumentation on stable Rust, features are
//! the feedback.
//!
//! A finding is a panic ([`catch_unwind`]), an input that takes longer
//! than [`SLOW`] (twice in a row), or one that hangs for [`HANG`] (a
//! watchdog thread) or kills the process (a stack overflow, an abort: the
//! supervising process, see `main.rs`, reads the input the worker wrote
//! before running it). Findings are minimized when quick to, and written
//! to `findings/<target>/`.

use std::fs;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::mutate::{Rng, mutate};
use crate::{Target, hash, take_novelty};

/// An input slower than this (twice) is a finding.
pub const SLOW: Duration = Duration::from_secs(1);
/// An input still running after this is a finding, and ends the process.
pub const HANG: Duration = Duration::from_secs(10);
/// Most inputs kept in the in-memory corpus.
const MAX_POOL: usize = 20_000;

/// What went wrong with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It panicked, with this message and where.
    Panic(String),
    /// It took this long.
    Slow(Duration),
    /// It killed the process (a stack overflow, an abort), which ended so.
    Died(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panic: {m}"),
            Failure::Slow(d) => write!(f, "slow: {:.2} s for one input", d.as_secs_f64()),
            Failure::Died(status) => write!(f, "the process died: {status}"),
        }
    }
}

impl Failure {
    /// The prefix of its finding's file name.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Panic(_) | Failure::Died(_) => "crash",
            Failure::Slow(_) => "slow",
        }
    }
}

/// A finding: the input and what it did.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The input (minimized when that was quick).
    pub input: Vec<u8>,
    /// What it did.
    pub failure: Failure,
    /// Where it was written.
    pub path: Option<PathBuf>,
}

/// What a run of one target did.
#[derive(Debug)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Inputs run.
    pub execs: u64,
    /// Time spent.
    pub elapsed: Duration,
    /// Inputs read from `corpus/` and `regressions/`.
    pub seeds: usize,
    /// Inputs in the in-memory corpus at the end.
    pub corpus: usize,
    /// What was found (the run of a target stops at its first finding).
    pub findings: Vec<Finding>,
}

thread_local! {
    /// The message of the last panic on this thread while running inputs.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// Whether this thread is running inputs (its panics are findings).
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook that records the panics of inputs (message,
/// location and, with `FUZZ_BACKTRACE=1`, a backtrace) instead of printing
/// them; other panics print as usual.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        let backtraces = std::env::var_os("FUZZ_BACKTRACE").is_some_and(|v| v != "0");
        std::panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(std::cell::Cell::get) {
                default(info);
                return;
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic with a non-text payload)".to_string());
            let mut text = match info.location() {
                Some(l) => format!("{message} (at {}:{}:{})", l.file(), l.line(), l.column()),
                None => message,
            };
            if backtraces {
                text = format!("{text}\n{}", std::backtrace::Backtrace::force_capture());
            }
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
    });
}

/// Runs one input of `target`: its signature and how long it took, or its
/// panic.
pub fn run_one(target: &Target, data: &[u8]) -> Result<(u64, Duration), Failure> {
    install_panic_hook();
    FUZZING.with(|f| f.set(true));
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| (target.exec)(data)));
    let elapsed = start.elapsed();
    FUZZING.with(|f| f.set(false));
    match result {
        Ok(sig) => Ok((sig, elapsed)),
        Err(_) => Err(Failure::Panic(
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "(no message)".to_string()),
        )),
    }
}

/// Runs one input as the fuzz loop judges it: a panic, or slow twice.
pub fn check_one(target: &Target, data: &[u8]) -> Result<u64, Failure> {
    let (sig, elapsed) = run_one(target, data)?;
    if elapsed > SLOW {
        let (_, again) = run_one(target, data)?;
        if again > SLOW {
            return Err(Failure::Slow(elapsed.min(again)));
        }
    }
    Ok(sig)
}

/// The files of `dir`, sorted by name (none if it does not exist).
pub fn inputs_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| fs::read(&p).ok().map(|data| (p, data)))
        .collect()
}

/// The checked-in inputs of `target` under `dir` (the `fuzz/` directory):
/// its corpus, then its regressions.
pub fn seeds(dir: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = inputs_in(&dir.join("corpus").join(target));
    all.extend(inputs_in(&dir.join("regressions").join(target)));
    all
}

/// Shrinks a panicking input by deleting runs of bytes while it still
/// panics, for at most `budget`.
pub fn minimize(target: &Target, input: &[u8], budget: Duration) -> Vec<u8> {
    let start = Instant::now();
    let mut best = input.to_vec();
    let mut chunk = best.len().div_ceil(2).max(1);
    while chunk >= 1 && start.elapsed() < budget {
        let mut at = 0;
        let mut shrunk = false;
        while at < best.len() && start.elapsed() < budget {
            let mut candidate = best.clone();
            candidate.drain(at..(at + chunk).min(best.len()));
            if matches!(run_one(target, &candidate), Err(Failure::Panic(_))) {
                best = candidate;
                shrunk = true;
            } else {
                at += chunk;
            }
        }
        if !shrunk {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    best
}

/// Writes `finding` under `dir/findings/<target>/` and returns the path.
pub fn write_finding(dir: &Path, target: &str, input: &[u8], kind: &str) -> Option<PathBuf> {
    let folder = dir.join("findings").join(target);
    fs::create_dir_all(&folder).ok()?;
    let path = folder.join(format!("{kind}-{:016x}", hash(input)));
    fs::write(&path, input).ok()?;
    Some(path)
}

/// The first bytes of `input`, printable.
pub fn preview(input: &[u8]) -> String {
    let shown: String = input
        .iter()
        .take(160)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if input.len() > 160 {
        format!("{shown}… ({} bytes)", input.len())
    } else {
        shown
    }
}

/// The input being run, for the watchdog and the supervisor.
#[derive(Default)]
pub struct Current {
    started: Option<Instant>,
    input: Vec<u8>,
}

/// Watches the input being run: one that runs longer than [`HANG`] is
/// written as a finding and the process exits with status 1.
pub fn watchdog(dir: PathBuf, target: &'static str) -> Arc<Mutex<Current>> {
    let current = Arc::new(Mutex::new(Current::default()));
    let watched = Arc::clone(&current);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let Ok(c) = watched.lock() else { return };
            if let Some(started) = c.started
                && started.elapsed() > HANG
            {
                let path = write_finding(&dir, target, &c.input, "hang");
                eprintln!(
                    "FINDING in {target}: hang: still running after {} s\n  input: {}\n  written to {}",
                    HANG.as_secs(),
                    preview(&c.input),
                    path.map_or("(could not write it)".into(), |p| p.display().to_string())
                );
                std::process::exit(1);
            }
        }
    });
    current
}

/// Settings of a fuzz run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to fuzz the target.
    pub duration: Duration,
    /// The PRNG seed (mixed with the target's name).
    pub seed: u64,
    /// The `fuzz/` directory: corpus, regressions, findings.
    pub dir: PathBuf,
    /// Where to write each input before running it, so that a supervising
    /// process can tell which input killed this one.
    pub last_input: Option<PathBuf>,
}

/// Writes `input` where the supervisor reads it if this process dies.
struct LastInput(Option<fs::File>);

impl LastInput {
    fn open(path: Option<&Path>) -> LastInput {
        LastInput(path.and_then(|p| fs::File::create(p).ok()))
    }

    fn record(&mut self, input: &[u8]) {
        use std::os::unix::fs::FileExt as _;
        if let Some(f) = &self.0 {
            let mut framed = Vec::with_capacity(input.len() + 8);
            framed.extend_from_slice(&(input.len() as u64).to_le_bytes());
            framed.extend_from_slice(input);
            let _ = f.write_all_at(&framed, 0);
        }
    }
}

/// Reads what [`LastInput`] wrote.
pub fn read_last_input(path: &Path) -> Option<Vec<u8>> {
    let bytes = fs::read(path).ok()?;
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    bytes.get(8..8 + len).map(<[u8]>::to_vec)
}

/// Fuzzes `target` for `settings.duration`.
pub fn fuzz(target: &'static Target, settings: &Settings) -> Report {
    let start = Instant::now();
    let deadline = start + settings.duration;
    let mut rng = Rng::new(settings.seed ^ hash(target.name.as_bytes()));
    let current = watchdog(settings.dir.clone(), target.name);
    let mut last_input = LastInput::open(settings.last_input.as_deref());
    let mut report = Report {
        target: target.name,
        execs: 0,
        elapsed: Duration::ZERO,
        seeds: 0,
        corpus: 0,
        findings: Vec::new(),
    };
    let mut pool: Vec<Vec<u8>> = Vec::new();

    let mut attempt = |input: &[u8], report: &mut Report| -> Option<u64> {
        last_input.record(input);
        if let Ok(mut c) = current.lock() {
            c.started = Some(Instant::now());
            c.input.clear();
            c.input.extend_from_slice(input);
        }
        let result = check_one(target, input);
        if let Ok(mut c) = current.lock() {
            c.started = None;
        }
        report.execs += 1;
        let (input, failure) = match result {
            Ok(sig) => return Some(sig),
            Err(failure @ Failure::Panic(_)) => {
                // Minimized under the watchdog too: a candidate that hangs
                // ends the run with the original input as the finding.
                if let Ok(mut c) = current.lock() {
                    c.started = Some(Instant::now());
                }
                let input = minimize(target, input, Duration::from_secs(5));
                let failure = match run_one(target, &input) {
                    Err(f @ Failure::Panic(_)) => f,
                    _ => failure,
                };
                if let Ok(mut c) = current.lock() {
                    c.started = None;
                }
                (input, failure)
            }
            Err(failure) => (input.to_vec(), failure),
        };
        let path = write_finding(&settings.dir, target.name, &input, failure.kind());
        report.findings.push(Finding {
            input,
            failure,
            path,
        });
        None
    };

    let seeds = seeds(&settings.dir, target.name);
    report.seeds = seeds.len();
    for (_, data) in &seeds {
        if attempt(data, &mut report).is_none() {
            break;
        }
        pool.push(data.clone());
    }
    take_novelty();
    if pool.is_empty() && report.findings.is_empty() {
        pool.push((target.generate)(&mut rng));
    }
    while report.findings.is_empty() && Instant::now() < deadline {
        let input = if rng.one_in(10) {
            let mut fresh = (target.generate)(&mut rng);
            fresh.truncate(target.max_len);
            fresh
        } else {
            let mut data = rng.pick(&pool).clone();
            let other = rng.pick(&pool);
            mutate(
                &mut rng,
                &mut data,
                other,
                target.dictionary,
                target.max_len,
            );
            data
        };
        if attempt(&input, &mut report).is_some() && take_novelty() {
            if pool.len() < MAX_POOL {
                pool.push(input);
            } else {
                let i = rng.below(pool.len());
                pool[i] = input;
            }
        }
    }
    report.corpus = pool.len();
    report.elapsed = start.elapsed();
    report
}

/// Prints a finding to stderr.
pub fn print_finding(target: &str, f: &Finding) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "FINDING in {target}: {}\n  input: {}\n  written to {}",
        f.failure,
        preview(&f.input),
        f.path
            .as_ref()
            .map_or("(could not write it)".into(), |p| p.display().to_string())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buggy(data: &[u8]) -> u64 {
        assert!(!data.windows(3).any(|w| w == b"BUG"), "found the bug");
        data.len() as u64
    }

    fn sleepy(data: &[u8]) -> u64 {
        if data.contains(&b'Z') {
            std::thread::sleep(Duration::from_millis(1100));
        }
        0
    }

    fn nothing(_: &mut Rng) -> Vec<u8> {
        b"a BU".to_vec()
    }

    static BUGGY: Target = Target {
        name: "test-buggy",
        exec: buggy,
        generate: nothing,
        dictionary: &[b"BUG"],
        max_len: 64,
    };

    static SLEEPY: Target = Target {
        name: "test-sleepy",
        exec: sleepy,
        generate: nothing,
        dictionary: &[b"Z"],
        max_len: 64,
    };

    fn settings(name: &str) -> Settings {
        let dir =
            std::env::temp_dir().join(format!("weir-fuzz-test-{}-{name}", std::process::id()));
        Settings {
            duration: Duration::from_secs(20),
            seed: 1,
            dir,
            last_input: None,
        }
    }

    #[test]
    fn finds_minimizes_and_writes_a_panic() {
        let s = settings("buggy");
        let report = fuzz(&BUGGY, &s);
        let f = report.findings.first().expect("no finding");
        assert!(matches!(&f.failure, Failure::Panic(m) if m.contains("found the bug")));
        assert_eq!(f.input, b"BUG", "not minimized");
        let written = f.path.as_ref().map(fs::read).and_then(Result::ok);
        assert_eq!(written.as_deref(), Some(&b"BUG"[..]));
        let _ = fs::remove_dir_all(&s.dir);
    }

    #[test]
    fn finds_a_slow_input() {
        let s = settings("sleepy");
        let report = fuzz(&SLEEPY, &s);
        let f = report.findings.first().expect("no finding");
        assert!(matches!(f.failure, Failure::Slow(d) if d > SLOW));
        assert!(f.input.contains(&b'Z'));
        let _ = fs::remove_dir_all(&s.dir);
    }

    #[test]
    fn the_last_input_survives_for_the_supervisor() {
        let path = settings("last").dir.with_extension("last");
        let mut last = LastInput::open(Some(&path));
        last.record(b"a longer first input");
        last.record(b"short");
        assert_eq!(read_last_input(&path).as_deref(), Some(&b"short"[..]));
        let _ = fs::remove_file(&path);
    }
}
