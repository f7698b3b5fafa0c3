//! Loading a plugin: compiling the component against mapping the code the
//! compiled-code cache kept from an earlier load.
//!
//! Run with: cargo bench -p weir --bench plugin_load --profile release
//!
//! Each iteration is a whole `Engine::load` of the component bytes (read
//! beforehand): hashing, compiling or mapping, type checks and linking.
//! `compile` runs on an engine without a cache; `cached` on one whose cache
//! already holds the component. `instantiate` starts an instance of the
//! loaded plugin and runs its `init`: a plugin's start-up is `compile` (cold
//! cache) or `cached` (warm), plus `instantiate`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir::plugin::{CacheConfig, Engine, EngineConfig, Grants, InstanceOptions};

/// `(language, plugin, WASI grant)`.
const PLUGINS: [(&str, &str, bool); 7] = [
    ("rust", "test_bare", false),
    ("rust", "amount_filter", false),
    ("rust", "fraud_scorer", false),
    ("python", "amount_filter", true),
    ("js", "amount_filter", false),
    ("c", "amount_filter", false),
    ("go", "amount_filter", true),
];

fn engine(config: &EngineConfig) -> Engine {
    match Engine::with_config(config) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    }
}

fn load(c: &mut Criterion) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let plain = engine(&EngineConfig::default());
    let cached = engine(&EngineConfig::default().with_cache(CacheConfig::new(dir.path())));
    let mut group = c.benchmark_group("plugin_load");
    group.sample_size(10);
    for (language, name, wasi) in PLUGINS {
        let bytes = match std::fs::read(weir_test_support::plugin_in(language, name)) {
            Ok(b) => b,
            Err(e) => panic!("{name}: {e}"),
        };
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let grants = Grants::none().with_wasi(wasi);
        let run = |engine: &Engine| match engine.load(name, &bytes, grants) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let id = format!("{language}/{name}");
        group.bench_function(BenchmarkId::new("compile", &id), |b| b.iter(|| run(&plain)));
        // Fill the cache, then time loads that map it.
        run(&cached);
        group.bench_function(BenchmarkId::new("cached", &id), |b| {
            b.iter(|| {
                let plugin = run(&cached);
                assert!(plugin.info().from_cache);
                plugin
            })
        });
        let plugin = run(&cached);
        let settings = if name == "amount_filter" {
            vec![("min_amount", "100")]
        } else {
            Vec::new()
        };
        group.bench_function(BenchmarkId::new("instantiate", &id), |b| {
            b.iter(
                || match plugin.instantiate(InstanceOptions::with_settings(settings.clone())) {
                    Ok(i) => i,
                    Err(e) => panic!("{id}: {e}"),
                },
            )
        });
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
