//! Records flow from a 4-shard stream through a filter and an enricher to
//! a file, each once and in shard order, plain and KPL-aggregated alike;
//! a restart resumes from weir's own checkpoints.

use std::collections::HashMap;
use std::time::Duration;

use weir_kinesis::SeqKey;
use weir_kinesis::kpl::{UserRecord, aggregate};

use crate::common::*;

const TOTAL: u64 = 20_000;
/// Readings from here on are sent in KPL aggregates, one per vehicle.
const AGGREGATED_FROM: u64 = 16_000;
const VEHICLES: u64 = 64;

fn kept(value: &[u8]) -> bool {
    let v: serde_json::Value = serde_json::from_slice(value).unwrap_or_default();
    v["speed_kmh"].as_f64().is_some_and(|s| s > 20.0)
}

fn config(stream: &str, out: &std::path::Path) -> String {
    let fast = r#"{"value":{"speed_kmh":[{"numeric":[">",20]}]}}"#;
    enricher_pipeline("kinesis-flow", &source(stream, ""), Some(fast), out)
}

/// Puts readings `range`: plain ones with PutRecords, aggregated ones as
/// one KPL record per vehicle. Returns each reading's shard and key.
fn put_readings(
    aws: &Aws,
    stream: &str,
    range: std::ops::Range<u64>,
) -> Result<HashMap<u64, (String, SeqKey)>, Error> {
    let mut placed = HashMap::new();
    let plain: Vec<u64> = range.clone().filter(|n| *n < AGGREGATED_FROM).collect();
    let records: Vec<(String, Vec<u8>)> = plain.iter().map(|n| reading(*n, VEHICLES)).collect();
    for (n, p) in plain.iter().zip(aws.put(stream, &records)?) {
        placed.insert(*n, (p.shard, SeqKey::plain(&p.seq)));
    }
    let mut by_vehicle: HashMap<String, Vec<u64>> = HashMap::new();
    for n in range.filter(|n| *n >= AGGREGATED_FROM) {
        by_vehicle
            .entry(reading(n, VEHICLES).0)
            .or_default()
            .push(n);
    }
    let mut vehicles: Vec<_> = by_vehicle.into_iter().collect();
    vehicles.sort();
    for (vehicle, ns) in vehicles {
        let users: Vec<UserRecord> = ns
            .iter()
            .map(|n| {
                let (key, data) = reading(*n, VEHICLES);
                UserRecord {
                    partition_key: key,
                    data,
                }
            })
            .collect();
        let p = aws.put_one(stream, &vehicle, aggregate(&users))?;
        for (i, n) in ns.iter().enumerate() {
            placed.insert(*n, (p.shard.clone(), SeqKey::sub(&p.seq, i as u64)));
        }
    }
    Ok(placed)
}

/// Every kept reading is in `lines` exactly once, and per shard in
/// sequence order.
fn check_output(
    lines: &[serde_json::Value],
    placed: &HashMap<u64, (String, SeqKey)>,
    expected: usize,
) -> TestResult {
    let mut seen = HashMap::new();
    let mut last: HashMap<&str, &SeqKey> = HashMap::new();
    for line in lines {
        let n = number(line).ok_or("an output line without ts")?;
        *seen.entry(n).or_insert(0) += 1;
        let (shard, key) = placed.get(&n).ok_or(format!("reading {n} was never put"))?;
        assert!(
            line["speed_mph"].is_number(),
            "reading {n} was not enriched"
        );
        if let Some(prev) = last.insert(shard, key) {
            assert!(prev < key, "shard {shard}: {key} came after {prev}");
        }
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(repeated.is_empty(), "readings written twice: {repeated:?}");
    assert_eq!(seen.len(), expected, "distinct readings written");
    Ok(())
}

#[test]
fn twenty_thousand_records_over_four_shards_each_once_in_shard_order() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let stream = unique("flow");
    aws.create_stream(&stream, 4)?;
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out.jsonl");
    let mut placed = put_readings(&aws, &stream, 0..TOTAL)?;
    let shards: std::collections::HashSet<&String> = placed.values().map(|(s, _)| s).collect();
    assert_eq!(shards.len(), 4, "the readings spread over every shard");
    let expected = |upto: u64| (0..upto).filter(|n| kept(&reading(*n, VEHICLES).1)).count();
    assert!(expected(TOTAL) < TOTAL as usize, "the filter drops some");

    let cfg = write_config(dir.path(), &config(&stream, &out))?;
    let mut weir = start_weir(&cfg, "first")?;
    wait_for_lines(
        &out,
        expected(TOTAL),
        Duration::from_secs(240),
        &mut [&mut weir],
    )?;
    // Leave time for anything extra to show up, then stop cleanly.
    std::thread::sleep(Duration::from_millis(1500));
    weir.stop()?;
    check_output(&read_lines(&out)?, &placed, expected(TOTAL))?;

    // A restart continues after weir's own checkpoints: new readings only.
    placed.extend(
        put_readings(&aws, &stream, TOTAL..TOTAL + 2_000)?
            .into_iter()
            .filter(|_| true),
    );
    let more = (TOTAL..TOTAL + 2_000)
        .filter(|n| kept(&reading(*n, VEHICLES).1))
        .count();
    let mut again = start_weir(&cfg, "second")?;
    wait_for_lines(
        &out,
        expected(TOTAL) + more,
        Duration::from_secs(120),
        &mut [&mut again],
    )?;
    std::thread::sleep(Duration::from_millis(1500));
    again.stop()?;
    let log = std::fs::read_to_string(dir.path().join("second.log"))?;
    assert!(log.contains("resuming after checkpoint"), "{log}");
    check_output(&read_lines(&out)?, &placed, expected(TOTAL) + more)
}
