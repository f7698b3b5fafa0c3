//! `weir plugin bench`: records per second at several batch sizes, the
//! fixed cost of a call, and the plugin's peak memory.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use weir::plugin::{PluginInstance, PluginKind, WindowGroup};
use weir::{Batch, Record};

/// One measured batch size.
struct Row {
    batch: usize,
    calls: u64,
    records: u64,
    elapsed: Duration,
}

impl Row {
    fn per_call(&self) -> Duration {
        self.elapsed.div_f64(self.calls.max(1) as f64)
    }

    fn per_record_ns(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.records.max(1) as f64
    }
}

/// The `batch` records starting at `from`, taken round-robin from `input`.
fn batch_of(input: &[Record], from: usize, batch: usize) -> Vec<Record> {
    (0..batch)
        .map(|i| input[(from + i) % input.len()].clone())
        .collect()
}

/// One call over `records`, as the kind is called in a pipeline; an
/// aggregator folds them into one window per key.
fn call(instance: &mut PluginInstance, records: Vec<Record>) -> anyhow::Result<()> {
    if instance.plugin().kind() == PluginKind::Aggregator {
        let mut members: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            let key = r.key.as_ref().map(|k| k.to_vec()).unwrap_or_default();
            members.entry(key).or_default().push(i as u32);
        }
        let groups: Vec<WindowGroup> = members
            .into_iter()
            .map(|(key, records)| WindowGroup {
                key,
                start: 0,
                end: 60_000,
                accumulator: None,
                records,
            })
            .collect();
        instance.accumulate(&Batch::new("bench", "0", records), &groups)?;
    } else if let Err(failure) = instance.process(Batch::new("bench", "0", records)) {
        bail!("the plugin trapped: {}", failure.error);
    }
    Ok(())
}

fn measure(
    instance: &mut PluginInstance,
    input: &[Record],
    batch: usize,
    budget: Duration,
) -> anyhow::Result<Row> {
    call(instance, batch_of(input, 0, batch))?; // warm up
    let (mut calls, mut from) = (0u64, 0usize);
    let start = Instant::now();
    while calls < 3 || start.elapsed() < budget {
        call(instance, batch_of(input, from, batch))?;
        from = (from + batch) % input.len();
        calls += 1;
    }
    Ok(Row {
        batch,
        calls,
        records: calls * batch as u64,
        elapsed: start.elapsed(),
    })
}

/// Measures `instance` over `input` at each of `batches` for about
/// `budget` each and prints a table.
pub(crate) fn bench(
    instance: &mut PluginInstance,
    input: &[Record],
    batches: &[usize],
    budget: Duration,
) -> anyhow::Result<()> {
    if input.is_empty() {
        bail!("the input has no records to run the plugin on");
    }
    println!(
        "{} ({}), {} input records, about {:.1} s per batch size",
        instance.plugin().name(),
        instance.plugin().kind(),
        input.len(),
        budget.as_secs_f64()
    );
    println!(
        "{:>8} {:>14} {:>12} {:>12}",
        "batch", "records/s", "µs/call", "ns/record"
    );
    let mut rows = Vec::new();
    for &batch in batches {
        let row = measure(instance, input, batch.max(1), budget)?;
        println!(
            "{:>8} {:>14.0} {:>12.2} {:>12.0}",
            row.batch,
            1e9 / row.per_record_ns(),
            row.per_call().as_secs_f64() * 1e6,
            row.per_record_ns()
        );
        rows.push(row);
    }
    if let (Some(small), Some(large)) = (rows.first(), rows.last())
        && large.batch > small.batch
    {
        // Time per call = fixed + per record × batch, from the two ends.
        let per_record = (large.per_call().as_secs_f64() - small.per_call().as_secs_f64())
            / (large.batch - small.batch) as f64;
        let fixed = small.per_call().as_secs_f64() - per_record * small.batch as f64;
        println!(
            "per call: {:.2} µs fixed + {:.0} ns per record",
            fixed.max(0.0) * 1e6,
            per_record.max(0.0) * 1e9
        );
    }
    println!(
        "peak plugin memory: {:.1} MiB of linear memory",
        instance.memory_peak_bytes() as f64 / (1 << 20) as f64
    );
    Ok(())
}
