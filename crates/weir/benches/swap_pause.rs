//! The pause a plugin swap causes the serving worker, in a loaded
//! pipeline.
//!
//! Run with: cargo bench -p weir --bench swap_pause --profile release
//! (add `-- rust` or `-- python` for one language).
//!
//! A pipeline filters generated transactions as fast as it can (batches of
//! 100, one lane) into a sink that counts them. Meanwhile the stage's
//! plugin is reloaded 200 times (a new version of the same component each
//! time: instantiated, `init`-ed, warmed and swapped in). The worker's
//! calls are timed from the pipeline's own `stage` spans, which name the
//! version that served each call; a span covers the call and the
//! bookkeeping of its outcome. Reported:
//! - steady: calls, and the worker's idle time between calls, away from
//!   any reload;
//! - at the swap: the idle time between the last call on the old version
//!   and the first on the new one, and that first call;
//! - the pause a swap causes: per swap, how much longer that idle time and
//!   that first call were than the steady medians, together;
//! - the same measure on steady calls (idle time and call beyond the
//!   medians where no swap happened): the worker's own jitter, which each
//!   swap's figure contains as well;
//! - during loading: calls that overlap a reload's background work (load,
//!   instantiate, warm, drop the old version). On a 2-core machine that
//!   work runs on a core the pipeline would otherwise use too.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use weir::connectors::generator::{GeneratorSource, Workload};
use weir::pipeline::{Pipeline, Stage};
use weir::plugin::{Engine, EngineConfig, Grants};
use weir::{BatchLimits, Record, Sink, SinkError};

const SWAPS: usize = 200;

/// One stage span: when the worker entered and left it, and the version
/// that served its call.
#[derive(Clone, Copy)]
struct Call {
    start: Instant,
    end: Instant,
    version: u64,
}

impl Call {
    fn took(&self) -> Duration {
        self.end - self.start
    }
}

/// Collects the `stage` spans of the pipeline as [`Call`]s.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<Call>>>);

/// A stage span's timing, kept in the span's extensions while it is open.
struct Open {
    start: Option<Instant>,
    version: u64,
}

struct VersionField<'a>(&'a mut u64);

impl Visit for VersionField<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "version" {
            *self.0 = value;
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Calls {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "stage" {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Open {
                start: None,
                version: 0,
            });
        }
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            values.record(&mut VersionField(&mut open.version));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            open.start = Some(Instant::now());
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let end = Instant::now();
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
            && let Some(start) = open.start.take()
        {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Call {
                    start,
                    end,
                    version: open.version,
                });
        }
    }
}

#[derive(Clone, Default)]
struct Discard;

#[async_trait]
impl Sink for Discard {
    async fn write(&self, _records: &[Record]) -> Result<(), SinkError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "discard".into()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn show(what: &str, mut values: Vec<Duration>) {
    values.sort_unstable();
    println!(
        "  {what:<34} n={:<6} p50 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.99),
        values.last().copied().unwrap_or_default()
    );
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort_unstable();
    percentile(&values, 0.5)
}

fn measure(
    engine: &Engine,
    calls: &Calls,
    language: &str,
    wasi: bool,
    runtime: &tokio::runtime::Runtime,
) {
    let path = weir_test_support::plugin_in(language, "amount_filter");
    let plugin = match engine.load_file(&path, Grants::none().with_wasi(wasi)) {
        Ok(p) => p,
        Err(e) => panic!("{language}: {e}"),
    };
    let pipeline = match Pipeline::builder("swap")
        .source(GeneratorSource::new(
            Workload::Transactions,
            1,
            u64::MAX,
            0.0,
        ))
        .batch(BatchLimits::new(100, 1 << 20, 100))
        .stage(Stage::new("filter", plugin.clone()).setting("min_amount", "100"))
        .sink("out", Discard)
        .sink("failed", Discard)
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
    calls
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
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
    let calls = std::mem::take(&mut *calls.0.lock().unwrap_or_else(PoisonError::into_inner));
    let first = windows.first().map_or_else(Instant::now, |w| w.0);
    let loading = |c: &Call| windows.iter().any(|(s, e)| c.start <= *e && c.end >= *s);
    let (mut steady_calls, mut steady_idle, mut during) = (Vec::new(), Vec::new(), Vec::new());
    let mut swaps = Vec::new();
    for pair in calls.windows(2) {
        let (before, call) = (pair[0], pair[1]);
        if call.start < first {
            continue;
        }
        let idle = call.start.saturating_duration_since(before.end);
        if call.version != before.version {
            swaps.push((idle, call.took()));
        } else if loading(&call) {
            during.push(call.took());
        } else {
            steady_calls.push(call.took());
            steady_idle.push(idle);
        }
    }
    assert_eq!(
        swaps.len(),
        SWAPS,
        "every reload is served by its own version"
    );
    let (call_p50, idle_p50) = (median(steady_calls.clone()), median(steady_idle.clone()));
    let excess = |(idle, took): (Duration, Duration)| {
        idle.saturating_sub(idle_p50) + took.saturating_sub(call_p50)
    };
    let pauses = swaps.iter().copied().map(excess).collect();
    // The same measure on steady calls, where no swap happened: the
    // worker's own jitter, which every swap's figure includes too.
    let jitter = steady_idle
        .iter()
        .copied()
        .zip(steady_calls.iter().copied())
        .map(excess)
        .collect();
    let reload_times: Vec<Duration> = windows.iter().map(|(s, e)| *e - *s).collect();
    println!("{language} amount filter, {SWAPS} reloads, batches of 100:");
    show("steady: call", steady_calls);
    show("steady: idle between calls", steady_idle);
    show(
        "at the swap: idle before new version",
        swaps.iter().map(|s| s.0).collect(),
    );
    show(
        "at the swap: first call on it",
        swaps.iter().map(|s| s.1).collect(),
    );
    show("pause the swap causes", pauses);
    show("same measure, steady (no swap)", jitter);
    show("during loading: call", during);
    show("reload (start to old one dropped)", reload_times);
}

fn main() {
    // Only with `--bench`: `cargo test` runs bench targets too.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let calls = Calls::default();
    if tracing::subscriber::set_global_default(tracing_subscriber::registry().with(calls.clone()))
        .is_err()
    {
        panic!("a tracing subscriber was already set");
    }
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
    // `cargo bench ... -- python` measures one language only.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for (language, wasi) in [("rust", false), ("python", true)] {
        if only.is_empty() || only.iter().any(|o| o == language) {
            measure(&engine, &calls, language, wasi, &runtime);
        }
    }
}
