//! Operations: the metrics exposition checked by a real OpenMetrics parser
//! against the records processed, the monitor's series and alarms through
//! the admin API, and the dashboard in headless Chromium.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use weir::admin::{Admin, Request};
use weir::connectors::file::{FileSink, Format};
use weir::connectors::generator::{GeneratorSource, Workload};
use weir::metrics::{Metrics, names};
use weir::monitor::{AlarmConfig, Measure, MonitorSettings, Side};
use weir::pipeline::{Pipeline, Stage};

use super::{TestResult, engine, load};

/// The directory of the Python packages the tests use
/// (`bash scripts/pytools.sh install`).
fn pytools() -> PathBuf {
    let dir = std::env::var_os("WEIR_PYTOOLS").map_or_else(
        || weir_test_support::repo_root().join(".cache/pytools"),
        PathBuf::from,
    );
    assert!(
        dir.join("prometheus_client").is_dir(),
        "the Prometheus parser is not installed in {}: run `bash scripts/pytools.sh install`",
        dir.display()
    );
    dir
}

/// `text` parsed by the Prometheus client's OpenMetrics parser: its
/// families as JSON (see tests/metrics/parse.py).
fn parse_openmetrics(text: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let script = weir_test_support::repo_root().join("crates/weir/tests/metrics/parse.py");
    let mut child = Command::new("python3")
        .arg(script)
        .env("PYTHONPATH", pytools())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(families: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    families
        .iter()
        .flat_map(|f| f["samples"].as_array().into_iter().flatten())
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(v))
        })
        .and_then(|s| s["value"].as_f64())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_parse_as_openmetrics_and_count_the_records() -> TestResult {
    let dir = tempfile::tempdir()?;
    let metrics = Metrics::new();
    let pipeline = Pipeline::builder("counted")
        .source(GeneratorSource::new(Workload::Transactions, 3, 5_000, 0.0))
        .stage(Stage::new("big", load(&engine(), "amount_filter")).setting("min_amount", "100"))
        .sink(
            "out",
            FileSink::open(&dir.path().join("out.jsonl"), Format::Value, false)?,
        )
        .data_dir(dir.path().join("data"))
        .metrics(metrics.clone())
        .build()?;
    let digest = pipeline.control().stages()[0].digest.clone();
    let summary = pipeline.run(std::future::pending()).await?;
    let families = parse_openmetrics(&metrics.render())?;

    // Every family has its HELP and TYPE, and is in the documented list.
    for f in &families {
        let name = f["name"].as_str().unwrap_or_default();
        assert!(f["help"].as_str().is_some_and(|h| !h.is_empty()), "{f}");
        assert_ne!(f["type"], "unknown", "{f}");
        let exported = |n: &&str| {
            let family = n.strip_suffix("_total").unwrap_or(n);
            family == name
        };
        assert!(
            names::ALL.iter().any(exported) || name.starts_with(names::PLUGIN_PREFIX),
            "`{name}` is not in weir::metrics::names::ALL"
        );
    }

    // The counters equal the records processed.
    let pl = ("pipeline", "counted");
    let stage = [pl, ("stage", "big")];
    assert_eq!(summary.records_in, 5_000);
    let value = |name, labels: &[(&str, &str)]| sample(&families, name, labels);
    assert_eq!(value("weir_records_in_total", &[pl]), Some(5_000.0));
    let kept = value("weir_stage_records_out_total", &stage).ok_or("records out")?;
    let dropped = value("weir_stage_records_dropped_total", &stage).ok_or("dropped")?;
    assert_eq!(kept + dropped, 5_000.0);
    assert_eq!(dropped, summary.dropped as f64);
    assert!(kept > 0.0 && dropped > 0.0);
    assert_eq!(value("weir_records_out_total", &[pl]), Some(kept));
    assert_eq!(
        value("weir_sink_records_total", &[pl, ("sink", "out")]),
        Some(summary.written["out"] as f64)
    );
    assert_eq!(summary.written["out"] as f64, kept);
    assert_eq!(
        value("weir_stage_call_seconds_count", &stage),
        Some(summary.batches as f64)
    );
    assert_eq!(
        value("weir_batch_records_count", &[pl]),
        Some(summary.batches as f64)
    );
    assert!(value("weir_sink_write_seconds_count", &[pl, ("sink", "out")]) > Some(0.0));
    assert_eq!(
        value(
            "weir_stage_plugin_info",
            &[pl, ("stage", "big"), ("version", "1"), ("digest", &digest)]
        ),
        Some(1.0)
    );
    assert!(value("weir_process_cpu_seconds_total", &[]) > Some(0.0));
    assert!(value("weir_process_resident_memory_bytes", &[]) > Some(1e6));
    Ok(())
}

/// One admin API request, answered in process.
fn get(admin: &Admin, target: &str) -> (u16, String, String) {
    let r = admin.handle(&Request {
        method: "GET".into(),
        target: target.into(),
        ..Request::default()
    });
    (r.status, r.content_type.to_string(), r.body)
}

/// A generated stream at 2,000 records/s through the amount filter, with
/// the monitor sampling every 200 ms and one alarm; the admin API over it.
fn monitored(
    dir: &std::path::Path,
) -> Result<(Pipeline, Arc<Admin>, Metrics), Box<dyn std::error::Error>> {
    let metrics = Metrics::new();
    let pipeline = Pipeline::builder("watched")
        .source(GeneratorSource::new(
            Workload::Transactions,
            5,
            1_000_000,
            2_000.0,
        ))
        .stage(Stage::new("big", load(&engine(), "amount_filter")).setting("min_amount", "100"))
        .sink(
            "out",
            FileSink::open(&dir.join("out.jsonl"), Format::Value, false)?,
        )
        .sink(
            "alerts",
            FileSink::open(&dir.join("alerts.jsonl"), Format::Value, false)?,
        )
        .data_dir(dir.join("data"))
        .metrics(metrics.clone())
        .monitor(MonitorSettings::default().every(Duration::from_millis(200)))
        .alarm(
            AlarmConfig::new("slow", Measure::LatencyP99)
                .stage("big")
                .direction(Side::Above)
                .to("alerts"),
        )
        .alarm(AlarmConfig::new("errors", Measure::ErrorRatio).above(0.5))
        .build()?;
    let admin = Admin::new().with_metrics(metrics.clone());
    admin.add(pipeline.control());
    Ok((pipeline, Arc::new(admin), metrics))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_serves_the_series_alarms_and_dashboard() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (pipeline, admin, _) = monitored(dir.path())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(pipeline.run(async {
        let _ = stop_rx.await;
    }));

    // The dashboard and its files, built in.
    let (status, ty, body) = get(&admin, "/");
    assert_eq!((status, ty.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("dashboard/app.js"), "{body}");
    for file in [
        "/dashboard/app.js",
        "/dashboard/app.css",
        "/dashboard/uPlot.iife.min.js",
        "/dashboard/uPlot.min.css",
    ] {
        let (status, _, body) = get(&admin, file);
        assert!(status == 200 && !body.is_empty(), "{file}");
    }

    // The pipeline names its source and sinks for the graph.
    let (status, _, body) = get(&admin, "/api/pipelines/watched");
    assert_eq!(status, 200, "{body}");
    let p: Value = serde_json::from_str(&body)?;
    assert_eq!(p["monitor"]["period_ms"], 200);
    let sinks: Vec<&str> = p["sinks"]
        .as_array()
        .ok_or("sinks")?
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(sinks, ["alerts", "out"]);
    assert!(
        p["source"]["type"]
            .as_str()
            .is_some_and(|s| s.contains("generator"))
    );

    // Series fill in, a point per period.
    let deadline = Instant::now() + Duration::from_secs(20);
    let series = loop {
        let (status, _, body) = get(&admin, "/api/pipelines/watched/series");
        assert_eq!(status, 200, "{body}");
        let s: Value = serde_json::from_str(&body)?;
        if s["t"].as_array().is_some_and(|t| t.len() >= 8) {
            break s;
        }
        assert!(Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(series["period_ms"], 200);
    let find = |name: &str, stage: Option<&str>| {
        series["series"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == name && s["stage"].as_str() == stage)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let rates: Vec<f64> = find("records_in", None)["values"]
        .as_array()
        .ok_or("records_in")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let middle = rates.get(2..rates.len() - 1).ok_or("points")?;
    assert!(
        middle.iter().all(|r| (1_000.0..4_000.0).contains(r)),
        "about 2000 records/s: {rates:?}"
    );
    assert_eq!(find("records_in", None)["unit"], "records/s");
    assert!(
        find("latency_p99", Some("big"))["values"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x.as_f64().is_some_and(|l| l > 0.0))),
        "{series}"
    );
    let t = series["t"].as_array().ok_or("t")?;
    let last = t.last().and_then(Value::as_u64).ok_or("t")?;
    let (_, _, newer) = get(
        &admin,
        &format!("/api/pipelines/watched/series?since_ms={last}"),
    );
    let newer: Value = serde_json::from_str(&newer)?;
    assert!(
        newer["t"].as_array().is_some_and(|t| t.len() <= 2),
        "{newer}"
    );

    // The alarms and where they stand.
    let (status, _, body) = get(&admin, "/api/pipelines/watched/alarms");
    assert_eq!(status, 200, "{body}");
    let alarms: Value = serde_json::from_str(&body)?;
    let states: Vec<(&str, &str)> = alarms["alarms"]
        .as_array()
        .ok_or("alarms")?
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default(),
                a["state"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(states.len(), 2, "{alarms}");
    assert!(states.contains(&("errors", "ok")), "{alarms}");
    assert!(
        states
            .iter()
            .any(|s| s.0 == "slow" && (s.1 == "learning" || s.1 == "ok")),
        "{alarms}"
    );
    assert_eq!(alarms["events"], Value::Array(Vec::new()));
    let (status, _, body) = get(&admin, "/api/pipelines/watched/series?since_ms=soon");
    assert_eq!(status, 400, "{body}");

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), run).await???;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_in_headless_chromium() -> TestResult {
    let browser = std::env::var("WEIR_BROWSER_DIR").map_or_else(
        |_| weir_test_support::repo_root().join(".cache/browser"),
        PathBuf::from,
    );
    assert!(
        browser.join("node_modules/playwright-core").is_dir()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "Chromium or playwright-core is missing: run `bash scripts/browser.sh install`"
    );
    let dir = tempfile::tempdir()?;
    let (pipeline, admin, _) = monitored(dir.path())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(pipeline.run(async {
        let _ = stop_rx.await;
    }));
    let addr = weir::admin::serve("127.0.0.1:0".parse()?, admin).await?;
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let script = weir_test_support::repo_root().join("tests/dashboard/check.mjs");
    let url = format!("http://{addr}/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(["--url", &url, "--screenshot"])
            .arg(&shot)
            .args(["--expect-stage", "big", "--min-points", "10"])
            .args(["--timeout-ms", "60000"])
            .env("WEIR_BROWSER_DIR", &browser)
            .output()
    })
    .await??;
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), run).await???;
    assert!(
        out.status.success(),
        "the dashboard check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "dashboard screenshot: {}/dashboard.png",
        env!("CARGO_TARGET_TMPDIR")
    );
    Ok(())
}
