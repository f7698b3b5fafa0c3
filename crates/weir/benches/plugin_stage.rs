//! The plugin stage against the same logic compiled natively.
//!
//! Run with: cargo bench -p weir --bench plugin_stage --profile release
//!
//! Records are generated card transactions (~160-byte JSON values) with a
//! key and two headers, like records read from Kafka. For each batch size:
//!
//! - `native`: the plugin's logic (the amount filter's comparison, the
//!   fraud scorer's `logic.rs` with per-card state in a map) run over the
//!   records' borrowed bytes, and nothing else.
//! - `plugin`: the call as an embedder makes it when it keeps its records:
//!   [`PluginInstance::decide`] on a lent batch (packing, the component
//!   call, validating the answer), then dropping the verdict. Call
//!   deadlines are on (the default: epoch checks in the compiled code).
//! - `plugin-no-deadline`: the same on an engine without deadlines.
//! - `plugin-process`: [`PluginInstance::process`], which takes the batch
//!   and hands back the records: the records are cloned into a new batch
//!   and the outcome dropped inside the timed part, as that is what the
//!   caller pays to keep its own copy.
//!
//! `boundary/bare` is a plugin that keeps every record without reading it:
//! the cost of the call alone; at batch 1 it is the fixed cost per call.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir::connectors::generator::{Workload, generator};
use weir::plugin::{Engine, EngineConfig, Grants, InstanceOptions, PluginInstance};
use weir::{Batch, Position, Record};
use weir_test_support::native;

const SIZES: [usize; 3] = [1, 100, 1000];

fn transactions(n: usize) -> Vec<Record> {
    let mut g = generator(Workload::Transactions, 42);
    (0..n)
        .map(|i| {
            let r = g.next_record();
            Record::new(r.value, Position::Offset(i as u64), r.timestamp_ms)
                .with_key(r.key)
                .with_header("content-type", "application/json")
                .with_header("trace-id", format!("{:016x}", 0x9e37_79b9_u64 * i as u64))
        })
        .collect()
}

fn instance(engine: &Engine, name: &str, settings: &[(&str, &str)]) -> PluginInstance {
    let plugin = match engine.load_file(&weir_test_support::plugin(name), Grants::default()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    match plugin.instantiate(InstanceOptions::with_settings(settings.iter().copied())) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    }
}

/// The three plugin rows of one plugin.
fn plugin_rows(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    batch: &Batch,
    with_deadlines: &mut PluginInstance,
    without: &mut PluginInstance,
) {
    let size = batch.records.len();
    // A failing call would time the failure.
    for instance in [&mut *with_deadlines, &mut *without] {
        if let Err(e) = instance.decide(batch) {
            panic!("the plugin fails the batch: {e}");
        }
    }
    group.bench_function(BenchmarkId::new("plugin", size), |b| {
        b.iter(|| drop(black_box(with_deadlines.decide(batch))))
    });
    group.bench_function(BenchmarkId::new("plugin-no-deadline", size), |b| {
        b.iter(|| drop(black_box(without.decide(batch))))
    });
    group.bench_function(BenchmarkId::new("plugin-process", size), |b| {
        b.iter(|| drop(black_box(with_deadlines.process(batch.clone()))))
    });
}

fn stage(c: &mut Criterion) {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let fast = match Engine::with_config(&EngineConfig::default().with_deadlines(false)) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let pool = transactions(1_000);
    let mut filter = instance(&engine, "amount_filter", &[("min_amount", "100")]);
    let mut fast_filter = instance(&fast, "amount_filter", &[("min_amount", "100")]);
    let mut scorer = instance(&engine, "fraud_scorer", &[]);
    let mut fast_scorer = instance(&fast, "fraud_scorer", &[]);
    let mut bare = instance(&engine, "test_bare", &[]);
    let mut native_scorer = native::FraudScorer::default();

    for size in SIZES {
        let batch = Batch::new("tx", "0", pool[..size].to_vec());

        let mut group = c.benchmark_group("amount-filter");
        group.throughput(Throughput::Elements(size as u64));
        plugin_rows(&mut group, &batch, &mut filter, &mut fast_filter);
        group.bench_function(BenchmarkId::new("native", size), |b| {
            b.iter(|| {
                batch
                    .records
                    .iter()
                    .filter(|r| native::amount_keep(&r.value, 100.0).unwrap_or(false))
                    .count()
            })
        });
        group.finish();

        let mut group = c.benchmark_group("fraud-scorer");
        group.throughput(Throughput::Elements(size as u64));
        plugin_rows(&mut group, &batch, &mut scorer, &mut fast_scorer);
        group.bench_function(BenchmarkId::new("native", size), |b| {
            b.iter(|| {
                for r in &batch.records {
                    drop(black_box(native_scorer.score(&r.value)));
                }
            })
        });
        group.finish();

        let mut group = c.benchmark_group("boundary");
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("bare", size), |b| {
            b.iter(|| drop(black_box(bare.decide(&batch))))
        });
        group.finish();
    }
}

criterion_group!(benches, stage);
criterion_main!(benches);
