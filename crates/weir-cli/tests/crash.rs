//! `weir run` killed with SIGKILL mid-stream and started again: nothing is
//! lost, and the plugin state matches the replayed records, so the stateful
//! fraud scorer decides exactly as in one uninterrupted run.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use weir::connectors::generator::{Workload, generator};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const COUNT: u64 = 20_000;

fn config(dir: &Path, lanes: usize, partitions: u32) -> Result<std::path::PathBuf, std::io::Error> {
    let plugin = weir_test_support::plugin("fraud_scorer");
    let path = dir.join("pipeline.toml");
    std::fs::write(
        &path,
        format!(
            r#"
name = "crash"
parallelization_factor = {lanes}

[source]
type = "generator"
workload = "transactions"
count = {COUNT}
seed = 42
rate = 10000
partitions = {partitions}

[batch]
max_records = 100
max_wait_ms = 20

[[stages]]
name = "score"
plugin = "{}"

[[routes]]
sink = "alerts"
when = "score >= 0.7"

[[routes]]
sink = "archive"

[sinks.alerts]
type = "file"
path = "out/alerts.jsonl"
format = "json"

[sinks.archive]
type = "file"
path = "out/archive.jsonl"
format = "json"
"#,
            plugin.display()
        ),
    )?;
    Ok(path)
}

/// The generator's sequence numbers (`txn_id` `t-00000042` is 42) of the
/// records in an output file.
fn sequence_numbers(path: &Path) -> Result<Vec<u64>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)?;
            v["value"]["txn_id"]
                .as_str()
                .and_then(|t| t.strip_prefix("t-"))
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("no txn_id in {l}").into())
        })
        .collect()
}

fn killed_and_restarted(lanes: usize, partitions: u32) -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), lanes, partitions)?;
    let archive = dir.path().join("out/archive.jsonl");

    // First run: killed once some (not all) records were written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "--log", "warn"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    loop {
        let written = std::fs::read_to_string(&archive).map_or(0, |t| t.lines().count());
        if written >= 3_000 {
            break;
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("the first run ended ({status}) before it could be killed").into());
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            return Err("the first run wrote nothing in 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill()?; // SIGKILL
    child.wait()?;
    let before = sequence_numbers(&archive)?.len() as u64;
    assert!(before < COUNT, "killed too late to test anything: {before}");

    // Second run: resumes after the checkpoint and finishes.
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "--log", "warn"])
        .arg(&config)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Nothing lost; repeats only from the uncommitted tail.
    let archived = sequence_numbers(&archive)?;
    let distinct: BTreeSet<u64> = archived.iter().copied().collect();
    assert_eq!(
        distinct,
        (0..COUNT).collect::<BTreeSet<u64>>(),
        "every record arrives"
    );
    let repeated = archived.len() as u64 - COUNT;
    assert!(
        repeated < 2_000,
        "{repeated} records repeated: more than the batches in flight"
    );

    // The scorer's state was committed with the checkpoint, so replayed
    // transactions were not counted twice: the alerts are exactly those of
    // the native rules over one pass.
    let mut native = weir_test_support::native::FraudScorer::default();
    let mut g = generator(Workload::Transactions, 42);
    let mut expected = BTreeSet::new();
    for i in 0..COUNT {
        if native.score(&g.next_record().value)?.0 >= 0.7 {
            expected.insert(i);
        }
    }
    let alerts: BTreeSet<u64> = sequence_numbers(&dir.path().join("out/alerts.jsonl"))?
        .into_iter()
        .collect();
    assert_eq!(alerts, expected);
    Ok(())
}

#[test]
fn sigkill_then_restart_loses_nothing_and_counts_nothing_twice() -> TestResult {
    killed_and_restarted(1, 1)
}

#[test]
fn sigkill_then_restart_with_four_lanes() -> TestResult {
    killed_and_restarted(4, 1)
}

/// Three partitions, each with its own checkpoint, two lanes each.
#[test]
fn sigkill_then_restart_with_three_partitions() -> TestResult {
    killed_and_restarted(2, 3)
}
