//! The plugin stage against the same logic compiled natively.
//!
//! Run with: cargo bench -p weir --bench plugin_stage --profile release
//!
//! Records are generated card transactions (~160-byte JSON). For each batch
//! size the plugin side is a full `PluginInstance::process` call (packing,
//! the component call, applying the result to the records); the native side
//! runs the very same rules (the fraud scorer's `logic.rs`, the amount
//! filter's comparison) over the same batch. `bare` is a plugin that keeps
//! every record without reading it: the boundary cost alone. Outputs are
//! returned, so criterion drops them outside the timed part on both sides.
//! `plugin` runs with call deadlines enforced (the default: epoch checks in
//! the compiled code); `plugin-no-deadline` on an engine without them.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
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
            Record::new(r.value, Position::Offset(i as u64), r.timestamp_ms).with_key(r.key)
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

fn stage(c: &mut Criterion) {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let pool = transactions(5_000);
    let mut filter = instance(&engine, "amount_filter", &[("min_amount", "100")]);
    let mut scorer = instance(&engine, "fraud_scorer", &[]);
    let mut bare = instance(&engine, "test_bare", &[]);
    let mut native_scorer = native::FraudScorer::default();
    let fast = match Engine::with_config(&EngineConfig::default().with_deadlines(false)) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let mut fast_filter = instance(&fast, "amount_filter", &[("min_amount", "100")]);
    let mut fast_scorer = instance(&fast, "fraud_scorer", &[]);

    for size in SIZES {
        let make = || Batch::new("tx", "0", pool[..size].to_vec());
        // Few large batches in flight at once, so that the copies criterion
        // prepares stay in cache as a source's fresh records would.
        let input_size = if size >= 100 {
            BatchSize::LargeInput
        } else {
            BatchSize::SmallInput
        };
        let mut group = c.benchmark_group("amount-filter");
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("plugin", size), |b| {
            b.iter_batched(make, |batch| filter.process(batch).ok(), input_size)
        });
        group.bench_function(BenchmarkId::new("plugin-no-deadline", size), |b| {
            b.iter_batched(make, |batch| fast_filter.process(batch).ok(), input_size)
        });
        group.bench_function(BenchmarkId::new("native", size), |b| {
            b.iter_batched(
                make,
                |batch| {
                    let kept: Vec<Record> = batch
                        .records
                        .into_iter()
                        .filter(|r| native::amount_keep(&r.value, 100.0).unwrap_or(false))
                        .collect();
                    kept
                },
                input_size,
            )
        });
        group.finish();

        let mut group = c.benchmark_group("fraud-scorer");
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("plugin", size), |b| {
            b.iter_batched(make, |batch| scorer.process(batch).ok(), input_size)
        });
        group.bench_function(BenchmarkId::new("plugin-no-deadline", size), |b| {
            b.iter_batched(make, |batch| fast_scorer.process(batch).ok(), input_size)
        });
        group.bench_function(BenchmarkId::new("native", size), |b| {
            b.iter_batched(
                make,
                |batch| {
                    let mut out = batch.records;
                    for r in &mut out {
                        if let Ok((score, labels)) = native_scorer.score(&r.value) {
                            r.score = Some(score);
                            r.labels.extend(labels.into_iter().map(String::from));
                        }
                    }
                    out
                },
                input_size,
            )
        });
        group.finish();

        let mut group = c.benchmark_group("boundary");
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("bare", size), |b| {
            b.iter_batched(make, |batch| bare.process(batch).ok(), input_size)
        });
        group.finish();
    }
}

criterion_group!(benches, stage);
criterion_main!(benches);
