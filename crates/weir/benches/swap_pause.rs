//! The pause a plugin swap causes the serving worker, in a loaded
//! pipeline.
//!
//! Run with: cargo bench -p weir --bench swap_pause --profile release
//!
//! A pipeline filters generated transactions as fast as it can (batches of
//! 100) into a sink that notes when each batch arrives. Meanwhile the
//! stage's plugin is reloaded 50 times (a new version of the same
//! component each time: instantiated, `init`-ed, warmed and swapped in).
//! Three sets of gaps between consecutive batches are reported:
//! - steady: gaps that overlap no reload;
//! - at the swap: for each reload, the longer of the two gaps after the
//!   swap (the first batch on the new version is in one of them): what the
//!   swap itself costs the serving worker is this minus a steady gap;
//! - during loading: gaps that overlap a reload's background work (load,
//!   instantiate, warm). On a 2-core machine that work runs on a core the
//!   pipeline would otherwise use, which is part of what is measured.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use weir::connectors::generator::{GeneratorSource, Workload};
use weir::pipeline::{Pipeline, Stage};
use weir::plugin::{Engine, EngineConfig, Grants};
use weir::{BatchLimits, Record, Sink, SinkError};

const SWAPS: usize = 50;

#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Instant>>>);

#[async_trait]
impl Sink for Arrivals {
    async fn write(&self, _records: &[Record]) -> Result<(), SinkError> {
        if let Ok(mut a) = self.0.lock() {
            a.push(Instant::now());
        }
        Ok(())
    }

    fn describe(&self) -> String {
        "arrivals".into()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn show(what: &str, mut gaps: Vec<Duration>) {
    gaps.sort_unstable();
    println!(
        "  {what:<26} n={:<6} p50 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        gaps.len(),
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.99),
        gaps.last().copied().unwrap_or_default()
    );
}

fn measure(engine: &Engine, language: &str, wasi: bool, runtime: &tokio::runtime::Runtime) {
    let path = weir_test_support::plugin_in(language, "amount_filter");
    let plugin = match engine.load_file(&path, Grants::none().with_wasi(wasi)) {
        Ok(p) => p,
        Err(e) => panic!("{language}: {e}"),
    };
    let arrivals = Arrivals::default();
    let pipeline = match Pipeline::builder("swap")
        .source(GeneratorSource::new(
            Workload::Transactions,
            1,
            u64::MAX,
            0.0,
        ))
        .batch(BatchLimits::new(100, 1 << 20, 100))
        .stage(Stage::new("filter", plugin.clone()).setting("min_amount", "100"))
        .sink("out", arrivals.clone())
        .sink("failed", Arrivals::default())
        .on_failure("failed")
        .build()
    {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let control = pipeline.control();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let reloads = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let mut windows = Vec::with_capacity(SWAPS);
        for _ in 0..SWAPS {
            let started = Instant::now();
            if let Err(e) = control.reload("filter", plugin.clone()) {
                panic!("reload: {e}");
            }
            windows.push((started, Instant::now()));
            std::thread::sleep(Duration::from_millis(60));
        }
        let _ = stop_tx.send(());
        windows
    });
    let run = runtime.block_on(pipeline.run(async {
        let _ = stop_rx.await;
    }));
    if let Err(e) = run {
        panic!("{e}");
    }
    let windows = match reloads.join() {
        Ok(w) => w,
        Err(_) => panic!("the reload thread panicked"),
    };
    let arrivals = arrivals.0.lock().map(|a| a.clone()).unwrap_or_default();
    let mut at_swap = Vec::new();
    for (_, swapped) in &windows {
        let after = arrivals.partition_point(|a| a < swapped);
        let gap = |i: usize| match (arrivals.get(i.wrapping_sub(1)), arrivals.get(i)) {
            (Some(a), Some(b)) if i > 0 => *b - *a,
            _ => Duration::ZERO,
        };
        at_swap.push(gap(after).max(gap(after + 1)));
    }
    let (mut during, mut outside) = (Vec::new(), Vec::new());
    let first = windows.first().map_or_else(Instant::now, |w| w.0);
    for pair in arrivals.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a < first {
            continue;
        }
        let overlaps = windows.iter().any(|(s, e)| a <= *e && b >= *s);
        if overlaps { &mut during } else { &mut outside }.push(b - a);
    }
    let mut reload_times: Vec<Duration> = windows.iter().map(|(s, e)| *e - *s).collect();
    reload_times.sort_unstable();
    println!("{language} amount filter, {SWAPS} reloads, batches of 100:");
    show("gap between batches, steady", outside);
    show("gap at the swap", at_swap);
    show("gap during loading", during);
    show("reload (start to swapped)", reload_times);
}

fn main() {
    let engine = match Engine::with_config(&EngineConfig::default().with_default_cache()) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    // Only with `--bench`: `cargo test` runs bench targets too.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    measure(&engine, "rust", false, &runtime);
    measure(&engine, "python", true, &runtime);
}
