//! The same filter in each plugin language against the logic compiled
//! natively, at batches of 1,000 records.
//!
//! Run with: cargo bench -p weir --bench languages --profile release
//!
//! `native` runs the amount filter's comparison over borrowed record bytes
//! and nothing else. Each plugin side is what a caller pays: the batch
//! handed over (a `Vec` of shared records, built from the pool inside the
//! timed part), the call, and the outcome dropped.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir::connectors::generator::{Workload, generator};
use weir::plugin::{Engine, EngineConfig, Grants, InstanceOptions, PluginInstance};
use weir::{Batch, Position, Record};
use weir_test_support::native;

const SIZE: usize = 1_000;

/// The languages of the amount filter, with the grants each needs.
const LANGUAGES: [(&str, bool); 5] = [
    ("rust", false),
    ("python", true),
    ("js", false),
    ("c", false),
    ("go", true),
];

fn instance(engine: &Engine, language: &str, wasi: bool) -> PluginInstance {
    let path = weir_test_support::plugin_in(language, "amount_filter");
    let plugin = match engine.load_file(&path, Grants::none().with_wasi(wasi)) {
        Ok(p) => p,
        Err(e) => panic!("{language}: {e}"),
    };
    match plugin.instantiate(InstanceOptions::with_settings([("min_amount", "100")])) {
        Ok(i) => i,
        Err(e) => panic!("{language}: {e}"),
    }
}

fn languages(c: &mut Criterion) {
    let engine = match Engine::with_config(&EngineConfig::default().with_default_cache()) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let mut g = generator(Workload::Transactions, 42);
    let pool: Vec<Record> = (0..SIZE as u64)
        .map(|i| Record::new(g.next_record().value, Position::Offset(i), 0))
        .collect();
    let mut group = c.benchmark_group("amount-filter");
    group.throughput(Throughput::Elements(SIZE as u64));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("native", SIZE), |b| {
        b.iter(|| {
            pool.iter()
                .filter(|r| native::amount_keep(&r.value, 100.0).unwrap_or(false))
                .count()
        })
    });
    for (language, wasi) in LANGUAGES {
        let mut filter = instance(&engine, language, wasi);
        group.bench_function(BenchmarkId::new(language, SIZE), |b| {
            b.iter(|| {
                let outcome = filter.process(Batch::new("tx", "0", pool.clone()));
                outcome.map(|o| o.records.len()).ok()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, languages);
criterion_main!(benches);
