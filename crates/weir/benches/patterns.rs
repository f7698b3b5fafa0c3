//! Event-pattern matching speed: ~1 KB JSON events against 1, 100 and
//! 10,000 patterns.
//!
//! Run with: cargo bench -p weir --bench patterns --profile release
//!
//! `exact` patterns each require one value of `detail.user`; `prefix`
//! patterns each require a prefix of `detail.merchant`. Events spread their
//! user and merchant numbers over 0..20,000, so the share of events that
//! match grows with the number of patterns (about half at 10,000). `parsed` matches an already parsed event
//! (what a pipeline does after parsing the record once); `bytes` parses only
//! the fields the patterns refer to, straight from the JSON text.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use weir::pattern::{Pattern, PatternSet};

const EVENTS: usize = 512;

fn event(i: usize) -> Value {
    let country = ["DE", "FR", "NL", "AT"][i % 4];
    json!({
        "version": "0",
        "id": format!("6a7e8feb-b491-4cf7-a9f1-bf3703{i:06}"),
        "detail-type": "Card Transaction",
        "source": "weir.payments",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "eu-central-1",
        "resources": ["arn:aws:payments:eu-central-1:123456789012:terminal/t-0042"],
        "detail": {
            "user": format!("user-{:05}", (i * 37) % 20_000),
            "merchant": format!("m-{:05}-shop-{}", (i * 37) % 20_000, i),
            "amount": (i % 997) as f64 * 1.5,
            "currency": "EUR",
            "country": country,
            "channel": "ecom",
            "card": { "bin": "411111", "last4": format!("{:04}", i % 10000), "scheme": "visa" },
            "risk": { "score": 0.12, "rules": ["velocity", "amount"], "reviewed": false },
            "note": "x".repeat(300),
        }
    })
}

fn exact(n: usize) -> PatternSet {
    (0..n)
        .map(|i| {
            Pattern::compile(
                &json!({"source": ["weir.payments"], "detail": {"user": [format!("user-{i:05}")]}}),
            )
        })
        .collect::<Result<Vec<_>, _>>()
        .map(PatternSet::new)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn prefix(n: usize) -> PatternSet {
    (0..n)
        .map(|i| {
            Pattern::compile(&json!({"detail": {"merchant": [{"prefix": format!("m-{i:05}-")}]}}))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(PatternSet::new)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let events: Vec<Value> = (0..EVENTS).map(event).collect();
    let bytes: Vec<Vec<u8>> = events.iter().map(|e| e.to_string().into_bytes()).collect();
    let mean = bytes.iter().map(Vec::len).sum::<usize>() / bytes.len();
    eprintln!("patterns bench: events are {mean} bytes on average");
    for (kind, make) in [
        ("exact", exact as fn(usize) -> PatternSet),
        ("prefix", prefix),
    ] {
        let mut group = c.benchmark_group(format!("patterns-{kind}"));
        group.throughput(Throughput::Elements(EVENTS as u64));
        for n in [1, 100, 10_000] {
            let set = make(n);
            group.bench_function(BenchmarkId::new("parsed", n), |b| {
                b.iter(|| events.iter().filter(|e| set.matches(e)).count())
            });
            group.bench_function(BenchmarkId::new("bytes", n), |b| {
                b.iter(|| {
                    bytes
                        .iter()
                        .filter(|e| set.matches_json(e).unwrap_or(false))
                        .count()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
