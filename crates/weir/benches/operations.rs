//! What operations cost a pipeline: throughput with the monitor, alarms,
//! the metrics and admin server and two dashboard clients on, against the
//! same pipeline with all of them off, in one run.
//!
//! Run with: cargo bench -p weir --bench operations --profile release
//! (`WEIR_BENCH_RECORDS`, default 5,000,000; `WEIR_BENCH_ROUNDS`, default 5)
//!
//! The pipeline filters generated card transactions (the amount filter
//! plugin, batches of 500) into a sink that counts them. "off": monitor
//! off (`MonitorSettings::off()`), no admin server. "on": the monitor
//! samples every second with three alarms learning bands; the admin
//! server runs, and two clients poll it every second as the dashboard
//! does (the pipeline list, series, alarms, errors, dead letters) and
//! scrape `/metrics`. Each round runs both, in alternating order; the
//! medians are compared.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use weir::admin::Admin;
use weir::connectors::generator::{GeneratorSource, Workload};
use weir::metrics::Metrics;
use weir::monitor::{AlarmConfig, Measure, MonitorSettings, Side};
use weir::pipeline::{Pipeline, Stage};
use weir::plugin::{Engine, Grants};
use weir::{BatchLimits, Record, Sink, SinkError};

/// Counts the records it is given.
#[derive(Clone, Default)]
struct Count(Arc<AtomicU64>);

#[async_trait]
impl Sink for Count {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        self.0.fetch_add(records.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn describe(&self) -> String {
        "count".into()
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One GET over HTTP/1.1; the body's length (0 on any failure).
fn fetch(addr: SocketAddr, path: &str) -> usize {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return 0;
    };
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut body = Vec::new();
    s.read_to_end(&mut body).map_or(0, |_| body.len())
}

/// Polls the admin server every second as the dashboard does, until
/// `stop`.
fn dashboard_client(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut bytes = 0;
        while !stop.load(Ordering::Relaxed) {
            for path in [
                "/api/pipelines",
                "/api/pipelines/ops/series",
                "/api/pipelines/ops/alarms",
                "/api/pipelines/ops/errors?limit=10",
                "/api/pipelines/ops/dead-letters?limit=10",
                "/metrics",
            ] {
                bytes += fetch(addr, path);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        bytes
    })
}

/// One run of `records` records; records per second.
async fn round(engine: &Engine, records: u64, on: bool) -> f64 {
    let filter = engine
        .load_file(
            &weir_test_support::plugin("amount_filter"),
            Grants::default(),
        )
        .unwrap_or_else(|e| panic!("loading the amount filter: {e}"));
    let metrics = Metrics::new();
    let count = Count::default();
    let mut builder = Pipeline::builder("ops")
        .source(GeneratorSource::new(
            Workload::Transactions,
            11,
            records,
            0.0,
        ))
        .stage(Stage::new("big", filter).setting("min_amount", "100"))
        .sink("out", count.clone())
        .on_failure("out")
        .batch(BatchLimits::new(500, 1 << 20, 100))
        .metrics(metrics.clone());
    builder = if on {
        builder
            .monitor(MonitorSettings::default())
            .alarm(AlarmConfig::new("throughput", Measure::RecordsIn).direction(Side::Below))
            .alarm(
                AlarmConfig::new("latency", Measure::LatencyP99)
                    .stage("big")
                    .direction(Side::Above),
            )
            .alarm(AlarmConfig::new("errors", Measure::ErrorRatio).above(0.01))
    } else {
        builder.monitor(MonitorSettings::off())
    };
    let pipeline = builder.build().unwrap_or_else(|e| panic!("building: {e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    if on {
        let admin = Admin::new().with_metrics(metrics);
        admin.add(pipeline.control());
        let addr = weir::admin::serve(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(admin))
            .await
            .unwrap_or_else(|e| panic!("admin server: {e}"));
        for _ in 0..2 {
            clients.push(dashboard_client(addr, stop.clone()));
        }
    }
    let started = Instant::now();
    let summary = pipeline
        .run(std::future::pending())
        .await
        .unwrap_or_else(|e| panic!("run: {e}"));
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    assert_eq!(summary.records_in, records);
    records as f64 / secs
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    // `cargo bench` passes `--bench`; a libtest-style filter is ignored.
    let records = env_or("WEIR_BENCH_RECORDS", 5_000_000);
    let rounds = env_or("WEIR_BENCH_ROUNDS", 5);
    let engine = Engine::new().unwrap_or_else(|e| panic!("engine: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    // A first run compiles the plugin into the engine's cache.
    runtime.block_on(round(&engine, records / 10, false));
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for r in 1..=rounds {
        // Which goes first alternates, so neither gains from going second.
        let (a, b) = if r % 2 == 1 {
            let a = runtime.block_on(round(&engine, records, false));
            (a, runtime.block_on(round(&engine, records, true)))
        } else {
            let b = runtime.block_on(round(&engine, records, true));
            (runtime.block_on(round(&engine, records, false)), b)
        };
        println!(
            "round {r}: off {a:>10.0} records/s   on {b:>10.0} records/s   on/off {:.3}",
            b / a
        );
        off.push(a);
        on.push(b);
    }
    let (off, on) = (median(&mut off), median(&mut on));
    println!(
        "median: off {off:.0} records/s, on {on:.0} records/s: operations cost {:+.1} % of throughput",
        (1.0 - on / off) * 100.0
    );
}
