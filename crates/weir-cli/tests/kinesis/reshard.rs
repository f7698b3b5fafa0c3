//! Resharding while records keep arriving: one shard split, two merged.
//! Every record is processed once, and every record of a parent before any
//! of its children's.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;

const BATCHES: u64 = 50;
const PER_BATCH: u64 = 100;

#[test]
fn split_and_merge_while_records_arrive_parents_before_children() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let stream = unique("reshard");
    aws.create_stream(&stream, 3)?;
    // The source names the stream by its ARN (the emulator's account).
    let arn = format!("arn:aws:kinesis:us-east-1:000000000000:stream/{stream}");
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out.jsonl");
    let config = enricher_pipeline("kinesis-reshard", &source(&arn, ""), None, &out);
    let cfg = write_config(dir.path(), &config)?;
    let mut weir = start_weir(&cfg, "reshard")?;

    let producer = spawn_producer(&stream, BATCHES, PER_BATCH, 97);

    std::thread::sleep(Duration::from_secs(2));
    let shards = aws.shards(&stream)?;
    let [first, second, third] = shards.as_slice() else {
        return Err(format!("expected 3 shards, got {shards:?}").into());
    };
    aws.split(&stream, first)?;
    std::thread::sleep(Duration::from_secs(2));
    aws.merge(&stream, &second.id, &third.id)?;
    let placed = producer.join().map_err(|_| "the producer panicked")??;

    let total = (BATCHES * PER_BATCH) as usize;
    wait_for_lines(&out, total, Duration::from_secs(180), &mut [&mut weir])?;
    std::thread::sleep(Duration::from_millis(1500));
    weir.stop()?;

    let shards = aws.shards(&stream)?;
    let children: Vec<&ShardInfo> = shards.iter().filter(|s| !s.parents.is_empty()).collect();
    assert_eq!(
        children.len(),
        3,
        "two split children and one merge child: {shards:?}"
    );
    let closed: Vec<&str> = shards
        .iter()
        .filter(|s| s.closed)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        closed.len(),
        3,
        "the split and the merged shards are closed: {shards:?}"
    );

    let shard_of: HashMap<u64, &str> = placed
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.data).unwrap_or_default();
            (number(&v).unwrap_or(u64::MAX), p.shard.as_str())
        })
        .collect();
    let lines = read_lines(&out)?;
    // Line numbers of each shard's records, in output order.
    let mut at: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut seen = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let n = number(line).ok_or("an output line without ts")?;
        *seen.entry(n).or_insert(0u32) += 1;
        at.entry(shard_of.get(&n).copied().ok_or("unknown reading")?)
            .or_default()
            .push(i);
    }
    assert_eq!(seen.len(), total, "every record processed");
    assert!(seen.values().all(|c| *c == 1), "no record processed twice");
    for child in &children {
        let Some(child_lines) = at.get(child.id.as_str()) else {
            return Err(format!("child {} got no records", child.id).into());
        };
        let first_child = child_lines.iter().min().copied().unwrap_or(0);
        for parent in &child.parents {
            let last_parent = at
                .get(parent.as_str())
                .and_then(|v| v.iter().max())
                .copied();
            assert!(
                last_parent.is_some_and(|l| l < first_child),
                "parent {parent} (last line {last_parent:?}) not done before child {} (first line {first_child})",
                child.id
            );
        }
    }
    Ok(())
}
