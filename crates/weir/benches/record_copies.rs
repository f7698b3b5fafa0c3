//! Bytes the host allocates per record on the file → plugin → file path,
//! counted by an instrumented global allocator over a whole pipeline run
//! (source, lanes, the plugin call, routing, the sink; the engine, the
//! plugin and the pipeline are made before counting starts).
//!
//! Run with: cargo bench -p weir --bench record_copies --profile release

use std::alloc::System;
use std::io::Write as _;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use weir::connectors::file::{FileSink, FileSource, Format, LineFields};
use weir::connectors::generator::{Workload, generator};
use weir::pipeline::{Pipeline, Stage};
use weir::plugin::{Engine, Grants};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RECORDS: usize = 20_000;

/// A case: its label, the plugin, and the plugin's settings.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input)?);
    let mut g = generator(Workload::Transactions, 42);
    let mut value_bytes = 0usize;
    for _ in 0..RECORDS {
        let r = g.next_record();
        value_bytes += r.value.len();
        file.write_all(&r.value)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    drop(file);
    let mean = value_bytes as f64 / RECORDS as f64;
    println!("{RECORDS} transactions, {mean:.0} bytes per value on average");
    let engine = Engine::new()?;
    let cases: [Case; 2] = [
        (
            "filter (amount_filter, keeps every record)",
            "amount_filter",
            &[("min_amount", "-1")],
        ),
        (
            "enricher (test_passthrough, emits every record)",
            "test_passthrough",
            &[],
        ),
    ];
    for (label, name, settings) in cases {
        let plugin = engine.load_file(&weir_test_support::plugin(name), Grants::default())?;
        let out = dir.path().join(format!("{name}.jsonl"));
        let pipeline = Pipeline::builder(name)
            .source(FileSource::open(&input, LineFields::default())?)
            .stage(Stage::new(name, plugin).settings(settings.iter().copied()))
            .sink("out", FileSink::open(&out, Format::Value, false)?)
            .data_dir(dir.path().join(format!("data-{name}")))
            .build()?;
        let region = Region::new(GLOBAL);
        let summary = runtime.block_on(pipeline.run(std::future::pending()))?;
        let stats = region.change();
        let per_record = stats.bytes_allocated as f64 / summary.records_in as f64;
        println!(
            "{label}: {} records out, {per_record:.0} bytes allocated per record ({:.2}x the value), {:.1} allocations per record",
            summary.records_out,
            per_record / mean,
            stats.allocations as f64 / summary.records_in as f64,
        );
    }
    Ok(())
}
