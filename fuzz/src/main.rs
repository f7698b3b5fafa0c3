//! `weir-fuzz`: runs the fuzz targets for a bounded time each.
//!
//! ```text
//! weir-fuzz [TARGET...]             fuzz each target (all by default) for
//!                                   FUZZ_SECONDS seconds (default 10)
//! weir-fuzz --run TARGET FILE...    run inputs once (reproduce a finding)
//! weir-fuzz --list                  the targets
//! options: --seconds S (else FUZZ_SECONDS), --seed N (else FUZZ_SEED, else
//!          from the clock), --dir D (else this checkout's fuzz/)
//! ```
//!
//! Each target runs in a worker process (this binary with `--worker`), so
//! that an input that kills the process (a stack overflow, an abort) is
//! still caught: the worker writes each input to a file before running it,
//! and the supervisor reads it when the worker dies. Exit status 1 when
//! anything was found.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weir_fuzz::driver::{self, Failure, Settings};
use weir_fuzz::{TARGETS, Target, fuzz_dir, target};

/// Seconds per target when neither `--seconds` nor `FUZZ_SECONDS` says.
const DEFAULT_SECONDS: f64 = 10.0;

struct Args {
    seconds: f64,
    seed: u64,
    dir: PathBuf,
    run: bool,
    list: bool,
    worker: Option<String>,
    last_input: Option<PathBuf>,
    rest: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let seconds = match std::env::var("FUZZ_SECONDS") {
        Ok(s) => s
            .parse::<f64>()
            .map_err(|_| format!("FUZZ_SECONDS={s} is not a number of seconds"))?,
        Err(_) => DEFAULT_SECONDS,
    };
    let seed = match std::env::var("FUZZ_SEED") {
        Ok(s) => s
            .parse::<u64>()
            .map_err(|_| format!("FUZZ_SEED={s} is not a whole number"))?,
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    };
    let mut args = Args {
        seconds,
        seed,
        dir: fuzz_dir(),
        run: false,
        list: false,
        worker: None,
        last_input: None,
        rest: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                let v = value("--seconds")?;
                args.seconds = v
                    .parse()
                    .map_err(|_| format!("--seconds {v} is not a number"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v} is not a whole number"))?;
            }
            "--dir" => args.dir = PathBuf::from(value("--dir")?),
            "--run" => args.run = true,
            "--list" => args.list = true,
            "--worker" => args.worker = Some(value("--worker")?),
            "--last-input" => args.last_input = Some(PathBuf::from(value("--last-input")?)),
            "-h" | "--help" => {
                return Err(
                    "usage: weir-fuzz [--seconds S] [--seed N] [--dir D] [TARGET...] | --run TARGET FILE... | --list"
                        .into(),
                );
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => args.rest.push(arg),
        }
    }
    if !(args.seconds >= 0.0 && args.seconds.is_finite()) {
        return Err(format!("{} is not a number of seconds", args.seconds));
    }
    Ok(args)
}

fn find_target(name: &str) -> Result<&'static Target, String> {
    target(name).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        format!("no target `{name}` (targets: {})", names.join(", "))
    })
}

/// `--run TARGET FILE...`: each input once, with its outcome.
fn run_inputs(args: &Args) -> Result<bool, String> {
    let (name, files) = args
        .rest
        .split_first()
        .ok_or("--run needs a target and input files")?;
    let t = find_target(name)?;
    let mut failed = false;
    for file in files {
        let data = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        match driver::check_one(t, &data) {
            Ok(sig) => println!("{file}: ok (signature {sig:016x})"),
            Err(f) => {
                failed = true;
                println!("{file}: {f}");
            }
        }
    }
    Ok(!failed)
}

/// `--worker TARGET`: fuzz one target in this process.
fn worker(args: &Args, name: &str) -> Result<bool, String> {
    let t = find_target(name)?;
    // The first input of a target may pay for setting it up (the columnar
    // target compiles its components): not against the input's time.
    let _ = driver::run_one(t, &[]);
    let settings = Settings {
        duration: Duration::from_secs_f64(args.seconds),
        seed: args.seed,
        dir: args.dir.clone(),
        last_input: args.last_input.clone(),
    };
    let report = driver::fuzz(t, &settings);
    let secs = report.elapsed.as_secs_f64();
    println!(
        "{:<9} {:>9} execs in {:5.1} s ({:>7.0}/s), {} seeds, corpus {}, {}",
        report.target,
        report.execs,
        secs,
        report.execs as f64 / secs.max(1e-9),
        report.seeds,
        report.corpus,
        if report.findings.is_empty() {
            "no findings".to_string()
        } else {
            format!("{} FINDING(S)", report.findings.len())
        }
    );
    for f in &report.findings {
        driver::print_finding(report.target, f);
    }
    Ok(report.findings.is_empty())
}

/// Fuzzes each target in a worker process; true when nothing was found.
fn supervise(args: &Args) -> Result<bool, String> {
    let targets: Vec<&'static Target> = if args.rest.is_empty() {
        TARGETS.iter().collect()
    } else {
        args.rest
            .iter()
            .map(|n| find_target(n))
            .collect::<Result<_, _>>()?
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    println!(
        "weir-fuzz: seed {} (FUZZ_SEED={} repeats the mutations), {} s per target, findings go to {}",
        args.seed,
        args.seed,
        args.seconds,
        args.dir.join("findings").display()
    );
    let mut clean = true;
    for t in targets {
        let last_input =
            std::env::temp_dir().join(format!("weir-fuzz-{}-{}.last", std::process::id(), t.name));
        let status = Command::new(&exe)
            .arg("--worker")
            .arg(t.name)
            .arg("--seconds")
            .arg(args.seconds.to_string())
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--dir")
            .arg(&args.dir)
            .arg("--last-input")
            .arg(&last_input)
            .status()
            .map_err(|e| format!("cannot start a worker for {}: {e}", t.name))?;
        if !status.success() {
            clean = false;
            if status.code() != Some(1) {
                died(&args.dir, t.name, &last_input, &status.to_string());
            }
        }
        let _ = std::fs::remove_file(&last_input);
    }
    Ok(clean)
}

/// Reports the input a worker died on.
fn died(dir: &Path, target: &str, last_input: &Path, status: &str) {
    match driver::read_last_input(last_input) {
        Some(input) => {
            let path = driver::write_finding(dir, target, &input, "crash");
            driver::print_finding(
                target,
                &driver::Finding {
                    input,
                    failure: Failure::Died(status.to_string()),
                    path,
                },
            );
        }
        None => eprintln!("FINDING in {target}: the worker died ({status}) before any input"),
    }
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| {
        if args.list {
            for t in TARGETS {
                println!("{}", t.name);
            }
            Ok(true)
        } else if args.run {
            run_inputs(&args)
        } else if let Some(name) = &args.worker {
            worker(&args, name)
        } else {
            supervise(&args)
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("weir-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}
