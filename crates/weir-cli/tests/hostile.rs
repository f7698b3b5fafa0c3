//! The hostile-plugin corpus: plugins that abuse every resource they can
//! make the host spend, run by `weir run` on default limits. Each case
//! checks the error text, that the other records flow on, and weir's peak
//! resident memory.
//!
//! The fixtures (`plugins/rust/hostile-*`, built from source) attack when a
//! batch holds the record whose value contains `t-00000007`, and answer
//! normally otherwise; the pipeline bisects a failed call, so exactly that
//! record is dead-lettered when the attack fails the call.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_test_support::process::{Measured, run_measured};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Records the generator makes for each case.
const RECORDS: usize = 200;
/// The bound on weir's peak resident memory in every case, in MiB.
const PEAK_RSS_MIB: u64 = 512;

/// What a case must end in.
enum Expect {
    /// The trigger record is dead-lettered with an error containing the
    /// text; every other record arrives.
    Fails(&'static str),
    /// Every record arrives; weir's log contains the text.
    Flows(&'static str),
    /// `weir run` refuses to start, saying the text.
    NoStart(&'static str),
}

struct Case {
    plugin: &'static str,
    attack: &'static str,
    wasi: bool,
    limits: &'static str,
    expect: Expect,
}

const fn case(plugin: &'static str, attack: &'static str, expect: Expect) -> Case {
    Case {
        plugin,
        attack,
        wasi: false,
        limits: "",
        expect,
    }
}

const fn with_wasi(mut c: Case) -> Case {
    c.wasi = true;
    c
}

const fn with_limits(mut c: Case, limits: &'static str) -> Case {
    c.limits = limits;
    c
}

const FILTER: &str = "hostile_filter";
const ENRICHER: &str = "hostile_enricher";
const SCORER: &str = "hostile_scorer";

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn config(dir: &Path, c: &Case, trigger: &str, records: usize) -> std::io::Result<String> {
    let plugin = weir_test_support::plugin(c.plugin);
    let limits = if c.limits.is_empty() {
        String::new()
    } else {
        format!("limits = {{ {} }}\n", c.limits)
    };
    let path = dir.join("pipeline.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "hostile"
data_dir = "data"

[source]
type = "generator"
workload = "transactions"
count = {records}
seed = 42
rate = 1000000

[batch]
max_records = 50
max_wait_ms = 20

[[stages]]
name = "hostile"
plugin = "{plugin}"
grants = {{ wasi = {wasi} }}
settings = {{ attack = "{attack}", trigger = "{trigger}" }}
{limits}
[sinks.out]
type = "file"
path = "out.jsonl"
format = "json"

[sinks.failed]
type = "file"
path = "failed.jsonl"

[errors]
on_failure = "failed"
max_retries = 0
bisect_on_error = true
"#,
            plugin = plugin.display(),
            wasi = c.wasi,
            attack = c.attack,
        ),
    )?;
    Ok(path.display().to_string())
}

/// `weir run CFG` in `dir`, stopped after two minutes, its peak memory read.
fn weir_run(dir: &Path, cfg: &str) -> Result<Measured, Box<dyn std::error::Error>> {
    run_measured(
        Command::new(env!("CARGO_BIN_EXE_weir"))
            .current_dir(dir)
            .args(["run", cfg]),
        Duration::from_secs(120),
    )
}

/// Runs one case; the failures it finds, as text.
fn run(c: &Case) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let cfg = config(dir.path(), c, "t-00000007", RECORDS)?;
    let started = Instant::now();
    let measured = weir_run(dir.path(), &cfg)?;
    let took = started.elapsed();
    let name = format!(
        "{} {}{}",
        c.plugin,
        c.attack,
        if c.wasi { " (wasi)" } else { "" }
    );
    eprintln!(
        "{name}: {:?} in {took:.1?}, peak RSS {} MiB",
        measured.status,
        measured.peak_rss_kib / 1024
    );
    let mut problems = Vec::new();
    let log = format!("{}{}", measured.stdout, measured.stderr);
    if measured.peak_rss_kib > PEAK_RSS_MIB * 1024 {
        problems.push(format!(
            "{name}: peak RSS {} MiB over {PEAK_RSS_MIB} MiB",
            measured.peak_rss_kib / 1024
        ));
    }
    let Some(status) = measured.status else {
        problems.push(format!("{name}: still running after 120 s"));
        return Ok(problems);
    };
    if log.len() > 1 << 20 {
        problems.push(format!("{name}: {} bytes of log", log.len()));
    }
    let out = lines(&dir.path().join("out.jsonl"));
    let failed = lines(&dir.path().join("failed.jsonl"));
    match &c.expect {
        Expect::NoStart(text) => {
            if status.success() || !log.contains(text) {
                problems.push(format!(
                    "{name}: expected a refused start saying `{text}`, got {status}: {}",
                    tail(&log)
                ));
            }
        }
        Expect::Flows(text) => {
            if !status.success() || out.len() != RECORDS || !failed.is_empty() {
                problems.push(format!(
                    "{name}: expected all {RECORDS} records out, got {status}, {} out, {} failed: {}",
                    out.len(),
                    failed.len(),
                    tail(&log)
                ));
            }
            if !log.contains(text) {
                problems.push(format!(
                    "{name}: the log does not say `{text}`: {}",
                    tail(&log)
                ));
            }
        }
        Expect::Fails(text) => {
            let error = failed
                .first()
                .and_then(|f| f["error"].as_str())
                .unwrap_or_default()
                .to_string();
            let trigger = failed
                .first()
                .is_some_and(|f| f["value"].to_string().contains("t-00000007"));
            if !status.success()
                || out.len() != RECORDS - 1
                || failed.len() != 1
                || !trigger
                || !error.contains(text)
            {
                problems.push(format!(
                    "{name}: expected the trigger record failed with `{text}` and {} out; got {status}, {} out, {} failed, error `{}`: {}",
                    RECORDS - 1,
                    out.len(),
                    failed.len(),
                    error.chars().take(600).collect::<String>(),
                    tail(&log)
                ));
            }
            if error.len() > 16 << 10 {
                problems.push(format!("{name}: a {}-byte error", error.len()));
            }
        }
    }
    Ok(problems)
}

fn tail(log: &str) -> String {
    let start = log.len().saturating_sub(1500);
    let start = (start..log.len())
        .find(|&i| log.is_char_boundary(i))
        .unwrap_or(log.len());
    log[start..].to_string()
}

fn run_all(cases: &[Case]) -> TestResult {
    let mut problems = Vec::new();
    for c in cases {
        problems.extend(run(c)?);
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    Ok(())
}

#[test]
fn host_resources_are_bounded() -> TestResult {
    use Expect::*;
    run_all(&[
        case(FILTER, "state_flood", Fails("limits.state_write_mb")),
        with_limits(
            case(FILTER, "state_keys", Fails("limits.state_keys")),
            "state_keys = 1000",
        ),
        case(FILTER, "log_flood", Flows("log lines dropped")),
        case(FILTER, "log_huge", Flows("more bytes cut")),
        with_wasi(case(FILTER, "print_flood", Flows("log lines dropped"))),
        with_wasi(case(FILTER, "print_huge", Flows("more bytes cut"))),
        case(FILTER, "metric_flood", Flows("")),
        case(FILTER, "metric_long_name", Flows("")),
        case(FILTER, "panic_huge", Fails("trapped")),
        case(FILTER, "error_huge", Fails("more bytes cut")),
        case(FILTER, "init_state_flood", NoStart("limits.state_write_mb")),
        case(FILTER, "state_read_amplify", Fails("limits.memory_mb")),
        case(
            FILTER,
            "state_many_mismatch",
            Fails("as long as each other"),
        ),
    ])
}

#[test]
fn hostile_answers_are_refused_in_time() -> TestResult {
    use Expect::*;
    run_all(&[
        case(FILTER, "dup_errors", Fails("record errors for a batch")),
        case(FILTER, "bad_keep", Fails("kept record")),
        case(FILTER, "bad_error", Fails("error for record")),
        case(ENRICHER, "many_outputs", Fails("limits.output_records")),
        case(
            ENRICHER,
            "outputs_dup_errors",
            Fails("limits.output_records"),
        ),
        with_limits(
            case(
                ENRICHER,
                "outputs_dup_errors",
                Fails("record errors for a batch"),
            ),
            "output_records = 5000000",
        ),
        case(ENRICHER, "bad_input", Fails("emitted a record for input")),
        case(ENRICHER, "bad_offsets", Fails("outside the")),
        case(SCORER, "nan", Fails("not a finite number")),
        case(SCORER, "inf", Fails("not a finite number")),
        case(SCORER, "neg_inf", Fails("not a finite number")),
        case(SCORER, "bad_label", Fails("label for record")),
        case(SCORER, "label_flood", Fails("limits.output_records")),
        case(SCORER, "score_count", Fails("scores for")),
    ])
}

#[test]
fn wasm_side_abuse_is_contained() -> TestResult {
    use Expect::*;
    run_all(&[
        with_limits(
            case(FILTER, "loop", Fails("1000 ms deadline")),
            "deadline_ms = 1000",
        ),
        case(ENRICHER, "memory_bomb", Fails("256 MiB memory limit")),
        case(SCORER, "recursion", Fails("stack overflow")),
        case(SCORER, "deep_frames", Fails("out of bounds memory access")),
        case(FILTER, "read_file", Fails("not granted")),
        with_wasi(case(FILTER, "read_file", Flows(""))),
        case(SCORER, "clock", Fails("not granted")),
        with_wasi(case(SCORER, "clock", Flows(""))),
        with_limits(
            case(FILTER, "init_loop", NoStart("deadline")),
            "deadline_ms = 1000",
        ),
        case(FILTER, "init_memory_bomb", NoStart("memory limit")),
    ])
}

/// A plugin that adds 4 MiB of new keys on every call runs into the state
/// quota, and the data directory stays under it.
#[test]
fn state_stays_under_its_quota_on_disk() -> TestResult {
    let dir = tempfile::tempdir()?;
    let c = with_limits(
        case(FILTER, "state_growth", Expect::Flows("")),
        "state_mb = 32",
    );
    let cfg = config(dir.path(), &c, "t-", 1000)?;
    let measured = weir_run(dir.path(), &cfg)?;
    assert!(
        measured.status.is_some_and(|s| s.success()),
        "{}",
        measured.stderr
    );
    let failed = lines(&dir.path().join("failed.jsonl"));
    let out = lines(&dir.path().join("out.jsonl"));
    assert_eq!(out.len() + failed.len(), 1000);
    assert!(!out.is_empty() && !failed.is_empty());
    let error = failed[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("limits.state_mb"), "{error}");
    let size = dir_size(&dir.path().join("data"));
    assert!(size <= 32 << 20, "the data directory holds {size} bytes");
    Ok(())
}
