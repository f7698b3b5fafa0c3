//! The example pipelines end to end, with exact counts checked against the
//! generators and the native reference logic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use weir::connectors::Registry;
use weir::connectors::generator::{Workload, generator, planted};
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig, RunSummary};

use super::{TestResult, engine};

/// Loads an example config with its sinks and data directory moved into
/// `out`, so tests never write into the examples.
pub(crate) fn example(rel: &str, out: &Path) -> Result<PipelineConfig, Box<dyn std::error::Error>> {
    // Build the plugins first (the configs point at them).
    weir_test_support::plugin("amount_filter");
    let path = weir_test_support::repo_root().join("examples").join(rel);
    let mut config = PipelineConfig::from_file(&path)?;
    for (name, sink) in config.sinks.iter_mut() {
        if sink.options.contains("path") {
            let p = out.join(format!("{name}.jsonl"));
            sink.options.set("path", &p.display().to_string())?;
        }
    }
    config.data_dir = Some(out.join("data"));
    Ok(config)
}

async fn run(config: &PipelineConfig) -> Result<RunSummary, Box<dyn std::error::Error>> {
    let pipeline = Pipeline::build(config, &engine(), &Registry::builtin(), Metrics::new())?;
    Ok(pipeline.run(std::future::pending()).await?)
}

fn lines(path: PathBuf) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&path)?;
    Ok(text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn fraud_detection_alerts_exactly_what_the_rules_say() -> TestResult {
    fraud_detection_alerts(1).await
}

/// Four lanes keep each card's transactions in order, so the stateful
/// scorer decides exactly as with one.
#[tokio::test(flavor = "multi_thread")]
async fn fraud_detection_in_four_lanes_alerts_the_same() -> TestResult {
    fraud_detection_alerts(4).await
}

async fn fraud_detection_alerts(lanes: usize) -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut config = example("fraud-detection/pipeline.toml", dir.path())?;
    config.parallelization_factor = lanes;
    let summary = run(&config).await?;
    assert_eq!(summary.records_in, 20_000);
    assert_eq!(summary.scored, 20_000);
    assert_eq!(summary.failed, 0);

    // Expected alerts from the native rules over the same generated data.
    let mut native = weir_test_support::native::FraudScorer::default();
    let mut g = generator(Workload::Transactions, 42);
    let mut expected = BTreeSet::new();
    for i in 0..20_000u64 {
        let (score, _) = native.score(&g.next_record().value)?;
        if score >= 0.7 {
            expected.insert(i);
        }
    }
    let alerts = lines(dir.path().join("alerts.jsonl"))?;
    let got: BTreeSet<u64> = alerts
        .iter()
        .filter_map(|a| a["position"].as_u64())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        summary.written.get("alerts").copied(),
        Some(expected.len() as u64)
    );
    assert_eq!(summary.written.get("archive").copied(), Some(20_000));

    // Every planted fraud case is among the alerts, with its reason.
    let planted = planted(Workload::Transactions, 42, 20_000);
    assert!(
        planted.len() > 150,
        "the generator plants fraud: {}",
        planted.len()
    );
    let by_pos: BTreeMap<u64, &serde_json::Value> = alerts
        .iter()
        .filter_map(|a| a["position"].as_u64().map(|p| (p, a)))
        .collect();
    for (pos, kind) in planted {
        let alert = by_pos
            .get(&pos)
            .ok_or(format!("planted {kind} at {pos} not alerted"))?;
        let label = match kind {
            "burst" => "velocity",
            "amount" => "amount",
            "country" => "country-change",
            other => return Err(format!("unknown planted kind {other}").into()),
        };
        let labels = alert["labels"].as_array().cloned().unwrap_or_default();
        assert!(labels.iter().any(|l| l == label), "{pos}: {labels:?}");
    }
    // Alerts are a small share of the traffic.
    assert!(expected.len() < 400, "{}", expected.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_then_scorer_counts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = example("fraud-detection/big-spenders.toml", dir.path())?;
    let summary = run(&config).await?;
    let mut g = generator(Workload::Transactions, 42);
    let mut native = weir_test_support::native::FraudScorer::default();
    let (mut kept, mut alerts) = (0u64, 0u64);
    for _ in 0..20_000 {
        let v = g.next_record().value;
        if weir_test_support::native::amount_keep(&v, 100.0)? {
            kept += 1;
            if native.score(&v)?.0 >= 0.7 {
                alerts += 1;
            }
        }
    }
    assert_eq!(summary.dropped, 20_000 - kept);
    assert_eq!(summary.written.get("archive").copied(), Some(kept));
    assert_eq!(summary.written.get("alerts").copied(), Some(alerts));
    // The archive sink writes raw values: the input bytes, untouched.
    let text = std::fs::read_to_string(dir.path().join("archive.jsonl"))?;
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("{\"txn_id\":\"t-"), "{first}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn connected_vehicles_routes_events() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = example("connected-vehicles/pipeline.toml", dir.path())?;
    let summary = run(&config).await?;
    let planted = planted(Workload::Telemetry, 7, 20_000);
    let events = lines(dir.path().join("events.jsonl"))?;
    assert_eq!(events.len(), planted.len(), "one event per planted reading");
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, kind) in &planted {
        *want.entry(kind).or_default() += 1;
    }
    let mut got: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        *got.entry(e["event"].as_str().unwrap_or("?")).or_default() += 1;
    }
    assert_eq!(got, want);
    assert_eq!(summary.written.get("telemetry").copied(), Some(20_000));
    let telemetry = lines(dir.path().join("telemetry.jsonl"))?;
    assert!(
        telemetry
            .iter()
            .all(|t| t.get("speed_mph").is_some() && t.get("zone").is_some())
    );
    assert!(
        telemetry.iter().any(|t| t["zone"] == "mitte"),
        "some readings fall in the mitte geofence"
    );
    Ok(())
}

/// Per (vehicle, window start): readings, top speed, harsh brakings.
type WindowStats = BTreeMap<(String, i64), (u64, f64, u64)>;

#[tokio::test(flavor = "multi_thread")]
async fn vehicle_windows_summarise_exactly_the_closed_minutes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = example("connected-vehicles/windows.toml", dir.path())?;
    let summary = run(&config).await?;
    assert_eq!(summary.records_in, 30_000);
    assert_eq!(summary.failed, 0);
    same_windows_as_written_here(dir.path())
}

/// The anomaly example flags exactly the minutes the generator made hot:
/// the five minutes of each of the three vehicles `hot_engines = 3` picks
/// for seed 7, each mean above the band learnt from that vehicle's own
/// history, and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn the_anomaly_example_flags_exactly_the_engines_run_hot() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = example("connected-vehicles/anomaly.toml", dir.path())?;
    let summary = run(&config).await?;
    assert_eq!(summary.failed, 0);
    let flagged = lines(dir.path().join("anomalies.jsonl"))?;
    let minute = 60_000;
    let first = 1_767_226_800_000_u64;
    let mut expected = Vec::new();
    for (i, start) in (0..5).map(|m| (m, first + m * minute)) {
        for vehicle in ["v-009", "v-036", "v-045"] {
            expected.push((vehicle.to_string(), start, 20 + i));
        }
    }
    let got: Vec<(String, u64, u64)> = flagged
        .iter()
        .map(|f| {
            (
                f["vehicle"].as_str().unwrap_or_default().to_string(),
                f["window_start"].as_u64().unwrap_or_default(),
                f["history"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    for f in &flagged {
        let temp = f["engine_temp_c"].as_f64().ok_or("engine_temp_c")?;
        let high = f["band"]["high"].as_f64().ok_or("band.high")?;
        assert!(temp > high, "{f}");
        assert!(f["band"]["center"].as_f64() < Some(high), "{f}");
    }
    Ok(())
}

/// Open windows carry over from version to version: reloading the
/// aggregator ten times while it runs changes no window.
#[tokio::test(flavor = "multi_thread")]
async fn vehicle_windows_are_the_same_across_reloads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut config = example("connected-vehicles/windows.toml", dir.path())?;
    // Half a second of readings, so that the reloads land among them.
    config.source.options.set("rate", &60_000.0)?;
    let pipeline = Pipeline::build(&config, &engine(), &Registry::builtin(), Metrics::new())?;
    let control = pipeline.control();
    let reloads = std::thread::spawn(move || -> Result<u64, String> {
        for _ in 0..10 {
            control
                .reload_file("per-vehicle-minute", None)
                .map_err(|e| e.to_string())?;
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        Ok(control.stages()[0].version)
    });
    let summary = pipeline.run(std::future::pending()).await?;
    assert_eq!(summary.records_in, 30_000);
    assert_eq!(summary.failed, 0);
    assert_eq!(reloads.join().map_err(|_| "reloads panicked")??, 11);
    same_windows_as_written_here(dir.path())
}

/// The windows the example wrote to `dir` are exactly those of the same
/// readings windowed here.
fn same_windows_as_written_here(dir: &Path) -> TestResult {
    // The same readings, windowed here.
    let mut g = generator(Workload::Telemetry, 7);
    let mut want = WindowStats::new();
    let mut watermark = i64::MIN;
    for _ in 0..30_000 {
        let r = g.next_record();
        let v: serde_json::Value = serde_json::from_slice(&r.value)?;
        let start = r.timestamp_ms.div_euclid(60_000) * 60_000;
        let key = String::from_utf8(r.key)?;
        let e = want.entry((key, start)).or_insert((0, 0.0, 0));
        e.0 += 1;
        e.1 = e.1.max(v["speed_kmh"].as_f64().unwrap_or(f64::NAN));
        e.2 += u64::from(v["accel_mps2"].as_f64().is_some_and(|a| a <= -7.0));
        watermark = watermark.max(r.timestamp_ms);
    }
    want.retain(|(_, start), _| start + 60_000 <= watermark);

    let mut got = WindowStats::new();
    for w in lines(dir.join("windows.jsonl"))? {
        let key = (
            w["vehicle"].as_str().unwrap_or("?").to_string(),
            w["window_start"].as_i64().unwrap_or(-1),
        );
        let stats = (
            w["count"].as_u64().unwrap_or(0),
            w["max_speed_kmh"].as_f64().unwrap_or(f64::NAN),
            w["harsh_brakings"].as_u64().unwrap_or(0),
        );
        assert!(
            got.insert(key.clone(), stats).is_none(),
            "window {key:?} emitted twice"
        );
    }
    assert!(
        want.len() >= 400,
        "50 vehicles x 9 closed minutes, got {}",
        want.len()
    );
    assert_eq!(got, want);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deepracer_rewards_every_step() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = example("deepracer/pipeline.toml", dir.path())?;
    let summary = run(&config).await?;
    let mut g = generator(Workload::Race, 1);
    let mut on_line = 0u64;
    for _ in 0..5_000 {
        let p: serde_json::Value = serde_json::from_slice(&g.next_record().value)?;
        let d = p["distance_from_center"].as_f64().unwrap_or(f64::NAN);
        let w = p["track_width"].as_f64().unwrap_or(f64::NAN);
        if weir_test_support::native::center_line_reward(d, w) >= 1.0 {
            on_line += 1;
        }
    }
    assert_eq!(summary.scored, 5_000);
    assert_eq!(summary.written.get("rewards").copied(), Some(5_000));
    assert_eq!(summary.written.get("on-line").copied(), Some(on_line));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trapping_batch_is_dead_lettered_and_the_stream_goes_on() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    let mut text = String::new();
    for i in 0..50 {
        match i {
            17 => text.push_str("{\"n\":17,\"do\":\"trap\"}\n"),
            33 => text.push_str("{\"n\":33,\"do\":\"fail\"}\n"),
            _ => text.push_str(&format!("{{\"n\":{i}}}\n")),
        }
    }
    std::fs::write(&input, text)?;
    let chaos = weir_test_support::plugin("test_chaos");
    let toml = format!(
        r#"
name = "chaos"
data_dir = "data"
[source]
type = "file"
path = "in.jsonl"
[batch]
max_records = 10
[[stages]]
name = "chaos"
plugin = "{}"
[sinks.out]
type = "file"
path = "out.jsonl"
"#,
        chaos.display()
    );
    let config = PipelineConfig::from_str(&toml, "chaos.toml", dir.path())?;
    let summary = run(&config).await?;
    assert_eq!(summary.records_in, 50);
    // Batch 10..20 trapped as a whole; record 33 failed alone.
    assert_eq!(summary.failed, 11);
    assert_eq!(summary.written.get("out").copied(), Some(39));
    let dead = lines(dir.path().join("data/dead-letters.jsonl"))?;
    assert_eq!(dead.len(), 11);
    let trapped: Vec<&serde_json::Value> = dead
        .iter()
        .filter(|d| d["error"].as_str().unwrap_or("").contains("trapped"))
        .collect();
    assert_eq!(trapped.len(), 10);
    assert!(
        trapped[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("chaos: trap requested")
    );
    assert_eq!(trapped[0]["stage"], "chaos");
    assert_eq!(trapped[0]["plugin"], "test_chaos");
    assert_eq!(trapped[0]["position"], 10);
    assert_eq!(trapped[0]["value"]["n"], 10);
    let failed = dead
        .iter()
        .find(|d| d["value"]["n"] == 33)
        .ok_or("record 33 not dead-lettered")?;
    assert_eq!(failed["error"], "chaos: asked to fail");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_pipeline_resumes_after_its_checkpoint() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    let write = |from: u64, to: u64| -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&input)?;
        for i in from..to {
            writeln!(f, "{{\"amount\":{}}}", i * 10)?;
        }
        Ok(())
    };
    write(0, 30)?;
    let toml = format!(
        r#"
name = "resume"
data_dir = "data"
[source]
type = "file"
path = "in.jsonl"
[batch]
max_records = 7
[[stages]]
name = "big"
plugin = "{}"
settings = {{ min_amount = 100 }}
[sinks.out]
type = "file"
path = "out.jsonl"
"#,
        weir_test_support::plugin("amount_filter").display()
    );
    let config = PipelineConfig::from_str(&toml, "resume.toml", dir.path())?;
    let first = run(&config).await?;
    assert_eq!((first.records_in, first.records_out), (30, 19));
    // Run again: nothing new.
    let again = run(&config).await?;
    assert_eq!(again.records_in, 0);
    // More input arrives: only the new lines are read, and appended.
    write(30, 45)?;
    let third = run(&config).await?;
    assert_eq!((third.records_in, third.records_out), (15, 15));
    let out = std::fs::read_to_string(dir.path().join("out.jsonl"))?;
    let amounts: Vec<u64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).map(|v| v["amount"].as_u64().unwrap_or(0))
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(
        amounts,
        (11..45).map(|i| i * 10).collect::<Vec<_>>(),
        "each record exactly once"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_patterns_skip_records_before_the_stages() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut config = example("fraud-detection/pipeline.toml", dir.path())?;
    config.filter.patterns = vec![serde_json::Value::String(
        r#"{"value": {"country": ["DE"], "amount": [{"numeric": [">=", 50]}]}}"#.into(),
    )];
    let summary = run(&config).await?;
    let mut g = generator(Workload::Transactions, 42);
    let mut expected = 0u64;
    for _ in 0..20_000 {
        let v: serde_json::Value = serde_json::from_slice(&g.next_record().value)?;
        if v["country"] == "DE" && v["amount"].as_f64().unwrap_or(0.0) >= 50.0 {
            expected += 1;
        }
    }
    assert!(expected > 100 && expected < 20_000, "{expected}");
    assert_eq!(summary.records_in, 20_000);
    assert_eq!(summary.filtered, 20_000 - expected);
    assert_eq!(summary.scored, expected);
    assert_eq!(summary.written.get("archive").copied(), Some(expected));
    // Skipped records are acknowledged: a second run has nothing to do.
    let again = run(&config).await?;
    assert_eq!(again.records_in, 0);
    Ok(())
}

/// When the failure destination itself cannot take a failed record, the
/// run stops with that error and the checkpoint stays before the record:
/// the next run, with a working destination, processes it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_failure_destination_stops_the_run_without_losing_the_record() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input: String = (0..9)
        .map(|i| {
            if i == 4 {
                format!("{{\"n\":{i},\"x\":\"fail\"}}\n")
            } else {
                format!("{{\"n\":{i}}}\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join("input.jsonl"), input)?;
    let chaos = weir_test_support::plugin("test_chaos");
    let config_text = |dlq: &str| {
        format!(
            "name = \"broken-dlq\"\n[source]\ntype = \"file\"\npath = \"input.jsonl\"\n[batch]\nmax_records = 3\n\
             [[stages]]\nname = \"chaos\"\nplugin = \"{}\"\n[errors]\non_failure = \"dlq\"\nmax_retries = 1\nretry_backoff = \"10ms\"\n\
             [[routes]]\nsink = \"out\"\n[sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n[sinks.dlq]\ntype = \"file\"\npath = \"{dlq}\"\n",
            chaos.display()
        )
    };
    let load = |dlq: &str| PipelineConfig::from_str(&config_text(dlq), "p.toml", dir.path());

    let err = run(&load("/dev/full")?).await.err().map(|e| e.to_string());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("No space left")),
        "{err:?}"
    );
    let summary = run(&load("dlq.jsonl")?).await?;
    assert_eq!(summary.records_in, 6, "resumed after the first batch");
    let out = lines(dir.path().join("out.jsonl"))?;
    let seen: BTreeSet<i64> = out.iter().filter_map(|v| v["n"].as_i64()).collect();
    assert_eq!(seen, [0, 1, 2, 3, 5, 6, 7, 8].into_iter().collect());
    let dlq = lines(dir.path().join("dlq.jsonl"))?;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["value"]["n"], 4);
    Ok(())
}
