//! Data-driven pipeline cases: one folder per case under `tests/cases/`
//! (see `tests/cases/README.md` for the layout).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;
use weir::connectors::Registry;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig, RunSummary};

use super::{TestResult, engine};

type Error = Box<dyn std::error::Error>;

/// `case.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CaseSpec {
    /// What the case shows.
    description: String,
    /// How many times the pipeline runs; before run `k` (from 2)
    /// `input.<k>.jsonl` is appended to `input.jsonl`.
    runs: Option<usize>,
    /// Sinks whose lines are compared as a multiset rather than in order.
    unordered: Vec<String>,
    /// Per-key order checks on outputs.
    key_order: Vec<KeyOrder>,
    /// Feed `input.jsonl` through a named pipe, pausing before some lines.
    pauses: Vec<Pause>,
    /// Expected fields of the (last) run's summary.
    summary: BTreeMap<String, u64>,
    /// The last run must fail with an error containing this text (its
    /// outputs are still checked; `summary` is not).
    run_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyOrder {
    sink: String,
    /// Top-level field of each output line holding the key.
    key: String,
    /// Top-level field holding a number that must increase per key.
    seq: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pause {
    /// 0-based input line before which the feeder pauses.
    before_line: usize,
    ms: u64,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Replaces `${PLUGINS}` and `${NOW_MS}` / `${NOW_MS+N}` / `${NOW_MS-N}`.
fn substitute(text: &str, plugins: &Path, now: u128) -> String {
    let mut out = text.replace("${PLUGINS}", &plugins.display().to_string());
    while let Some(at) = out.find("${NOW_MS") {
        let Some(len) = out[at..].find('}') else {
            break;
        };
        let expr = &out[at + 8..at + len];
        let value = match expr.split_at_checked(1) {
            Some(("+", n)) => now + n.parse::<u128>().unwrap_or(0),
            Some(("-", n)) => now.saturating_sub(n.parse::<u128>().unwrap_or(0)),
            _ => now,
        };
        out.replace_range(at..=at + len, &value.to_string());
    }
    out
}

fn copy_case(from: &Path, to: &Path, plugins: &Path, now: u128) -> Result<(), Error> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&dst)?;
            copy_case(&src, &dst, plugins, now)?;
        } else {
            let text = std::fs::read_to_string(&src)?;
            std::fs::write(&dst, substitute(&text, plugins, now))?;
        }
    }
    Ok(())
}

/// Replaces `input.jsonl` by a named pipe fed with its lines and pauses.
/// The feeder of a case's input through a pipe, and the sender that lets
/// it start writing.
type Feeder = (std::thread::JoinHandle<()>, std::sync::mpsc::Sender<()>);

/// Replaces the case's input file with a pipe that a thread feeds with
/// its lines, pausing as the case says. The thread opens the pipe (which
/// lets the source's open return) and writes once told to: when the
/// pipeline starts running, so that the time the pipeline takes to build
/// (compiling its plugins) does not swallow a pause.
fn feed_through_fifo(dir: &Path, pauses: &[Pause]) -> Result<Feeder, Error> {
    let input = dir.join("input.jsonl");
    let text = std::fs::read_to_string(&input)?;
    std::fs::remove_file(&input)?;
    let status = std::process::Command::new("mkfifo").arg(&input).status()?;
    if !status.success() {
        return Err(format!("mkfifo {} failed", input.display()).into());
    }
    let pauses: BTreeMap<usize, u64> = pauses.iter().map(|p| (p.before_line, p.ms)).collect();
    let (go, started) = std::sync::mpsc::channel();
    let feeder = std::thread::spawn(move || {
        // Opening blocks until the pipeline opens the pipe for reading.
        let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(&input) else {
            return;
        };
        if started.recv().is_err() {
            return;
        }
        let mut chunk = String::new();
        for (i, line) in text.lines().enumerate() {
            if let Some(ms) = pauses.get(&i) {
                let _ = pipe.write_all(chunk.as_bytes());
                let _ = pipe.flush();
                chunk.clear();
                std::thread::sleep(Duration::from_millis(*ms));
            }
            chunk.push_str(line);
            chunk.push('\n');
        }
        let _ = pipe.write_all(chunk.as_bytes());
    });
    Ok((feeder, go))
}

fn append(dir: &Path, run: usize) -> Result<(), Error> {
    let extra = dir.join(format!("input.{run}.jsonl"));
    let text = std::fs::read_to_string(&extra).map_err(|e| format!("{}: {e}", extra.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("input.jsonl"))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn summary_field(s: &RunSummary, field: &str) -> Option<u64> {
    Some(match field {
        "records_in" => s.records_in,
        "filtered" => s.filtered,
        "dropped" => s.dropped,
        "records_out" => s.records_out,
        "scored" => s.scored,
        "failed" => s.failed,
        "batches" => s.batches,
        other => *s.written.get(other.strip_prefix("written.")?)?,
    })
}

fn parse_line(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.to_string()))
}

/// Whether `actual` has everything `expected` has: objects may carry more
/// fields; an expected string `~text` matches any string containing
/// `text`; everything else must be equal.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) if e.starts_with('~') => a.contains(&e[1..]),
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(x, y)| contains(x, y))
        }
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => actual == expected,
    }
}

fn compare(
    sink: &str,
    actual: &[Value],
    expected: &[Value],
    unordered: bool,
) -> Result<(), String> {
    let show = |v: &[Value]| {
        v.iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let fail = |why: String| {
        Err(format!(
            "sink `{sink}`: {why}\n--- expected ({}):\n{}\n--- actual ({}):\n{}",
            expected.len(),
            show(expected),
            actual.len(),
            show(actual)
        ))
    };
    if actual.len() != expected.len() {
        return fail(format!(
            "{} lines, expected {}",
            actual.len(),
            expected.len()
        ));
    }
    if unordered {
        let mut left: Vec<&Value> = actual.iter().collect();
        for e in expected {
            match left.iter().position(|a| contains(a, e)) {
                Some(i) => {
                    left.swap_remove(i);
                }
                None => return fail(format!("no output matches {e}")),
            }
        }
        return Ok(());
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        if !contains(a, e) {
            return fail(format!("line {} is {a}, expected {e}", i + 1));
        }
    }
    Ok(())
}

fn check_key_order(actual: &[Value], order: &KeyOrder) -> Result<(), String> {
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    for v in actual {
        let key = v.get(&order.key).map(Value::to_string).unwrap_or_default();
        let seq = v
            .get(&order.seq)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN);
        if let Some(prev) = last.insert(key.clone(), seq)
            && prev >= seq
        {
            return Err(format!(
                "sink `{}`: key {key} went from {} {prev} to {seq}",
                order.sink, order.seq
            ));
        }
    }
    Ok(())
}

fn read_lines(path: &Path) -> Result<Vec<Value>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().map(parse_line).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// Runs case `name` and checks every expectation.
async fn run_case(name: &str) -> TestResult {
    let plugins_dir = weir_test_support::plugin("test_chaos")
        .parent()
        .map(Path::to_path_buf)
        .ok_or("no plugin directory")?;
    let source = cases_dir().join(name);
    let spec: CaseSpec = match std::fs::read_to_string(source.join("case.toml")) {
        Ok(text) => toml::from_str(&text)?,
        Err(_) => CaseSpec::default(),
    };
    let scratch = tempfile::tempdir()?;
    // WEIR_KEEP_CASES=1 keeps each case's working directory for a look.
    let kept;
    let dir = if std::env::var_os("WEIR_KEEP_CASES").is_some() {
        kept = scratch.keep();
        eprintln!("case {name}: working in {}", kept.display());
        kept.as_path()
    } else {
        scratch.path()
    };
    copy_case(&source, dir, &plugins_dir, now_ms())?;
    eprintln!("case {name}: {}", spec.description);

    let mut summary = RunSummary::default();
    for run in 1..=spec.runs.unwrap_or(1) {
        if run > 1 {
            append(dir, run)?;
        }
        let feeder = if spec.pauses.is_empty() {
            None
        } else {
            Some(feed_through_fifo(dir, &spec.pauses)?)
        };
        let config = PipelineConfig::from_file(&dir.join("pipeline.toml"))?;
        let pipeline = Pipeline::build(&config, &engine(), &Registry::builtin(), Metrics::new())?;
        if let Some((_, go)) = &feeder {
            go.send(()).map_err(|_| "the feeder thread ended early")?;
        }
        let result = tokio::time::timeout(
            Duration::from_secs(120),
            pipeline.run(std::future::pending()),
        )
        .await
        .map_err(|_| format!("case {name}: run {run} did not finish in 120 s"))?;
        match (result, &spec.run_error) {
            (Ok(s), None) => summary = s,
            (Err(e), Some(want)) if e.to_string().contains(want.as_str()) => {}
            (Err(e), _) => return Err(format!("case {name}: run {run} failed: {e}").into()),
            (Ok(_), Some(want)) => {
                return Err(format!("case {name}: run {run} should fail with `{want}`").into());
            }
        }
        if let Some((f, _)) = feeder {
            f.join().map_err(|_| "feeder thread failed")?;
        }
    }
    for (field, want) in &spec.summary {
        let got =
            summary_field(&summary, field).ok_or(format!("unknown summary field `{field}`"))?;
        assert_eq!(got, *want, "case {name}: summary `{field}` ({summary:?})");
    }
    let expected_dir = dir.join("expected");
    let mut checked = 0;
    for entry in std::fs::read_dir(&expected_dir)? {
        let path = entry?.path();
        let Some(sink) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let expected = read_lines(&path)?;
        let actual = read_lines(&dir.join("out").join(format!("{sink}.jsonl")))?;
        compare(&sink, &actual, &expected, spec.unordered.contains(&sink))
            .map_err(|e| format!("case {name}: {e}"))?;
        for order in spec.key_order.iter().filter(|o| o.sink == sink) {
            check_key_order(&actual, order).map_err(|e| format!("case {name}: {e}"))?;
        }
        checked += 1;
    }
    assert!(checked > 0, "case {name} has no expected/ files");
    Ok(())
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

macro_rules! cases {
    ($($test:ident => $folder:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $test() -> TestResult {
                run_case($folder).await
            }
        )*

        #[test]
        fn every_case_folder_has_a_test() -> TestResult {
            let listed = [$($folder),*];
            for entry in std::fs::read_dir(cases_dir())? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    assert!(listed.contains(&name.as_str()), "case folder `{name}` is not listed in cases.rs");
                }
            }
            Ok(())
        }
    };
}

cases! {
    batch_max_records => "batch-max-records",
    batch_max_bytes => "batch-max-bytes",
    batch_max_wait => "batch-max-wait",
    filter_exact => "filter-exact",
    filter_prefix => "filter-prefix",
    filter_suffix => "filter-suffix",
    filter_equals_ignore_case => "filter-equals-ignore-case",
    filter_wildcard => "filter-wildcard",
    filter_anything_but => "filter-anything-but",
    filter_numeric => "filter-numeric",
    filter_exists => "filter-exists",
    filter_cidr => "filter-cidr",
    filter_or => "filter-or",
    filter_null_empty => "filter-null-empty",
    filter_arrays => "filter-arrays",
    filter_metadata => "filter-metadata",
    filter_non_json => "filter-non-json",
    retries_exhausted => "retries-exhausted",
    retries_transient => "retries-transient",
    bisect_poison => "bisect-poison",
    max_record_age => "max-record-age",
    partial_failure => "partial-failure",
    parallel_per_key => "parallel-per-key",
    routes => "routes",
    sink_failure => "sink-failure",
    window_restart => "window-restart",
    window_late => "window-late",
    window_emit_failure => "window-emit-failure",
}
