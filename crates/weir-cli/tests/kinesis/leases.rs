//! Two processes share a 4-shard stream through a DynamoDB lease table. The
//! second gets half the shards when it joins; when the first is SIGKILLed,
//! the second takes its shards once their leases expire and resumes from
//! their checkpoints. Nothing is missing; repeats are only records past
//! the killed process's checkpoints.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use weir_kinesis::compare_seq;

use crate::common::*;

const BATCHES: u64 = 60;
const PER_BATCH: u64 = 100;

struct Member {
    weir: Weir,
    out: PathBuf,
}

fn member(root: &std::path::Path, name: &str, stream: &str, table: &str) -> Result<Member, Error> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("out.jsonl");
    let extra = format!(
        "lease_table = \"{table}\"\ndynamodb_endpoint = \"{}\"\nworker_id = \"{name}\"\nlease_duration = \"3s\"",
        dynamodb_endpoint()
    );
    let config = format!(
        "name = \"kinesis-leases\"\n{}\n[sinks.out]\ntype = \"file\"\npath = \"{}\"\n",
        source(stream, &extra),
        out.display()
    );
    let cfg = write_config(&dir, &config)?;
    Ok(Member {
        weir: start_weir(&cfg, name)?,
        out,
    })
}

/// Waits until the owners in the lease table satisfy `ok`.
fn wait_for_owners(
    aws: &Aws,
    table: &str,
    what: &str,
    ok: impl Fn(&HashMap<String, usize>) -> bool,
    members: &mut [&mut Member],
) -> Result<HashMap<String, (Option<String>, String)>, Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let leases = aws.leases(table).unwrap_or_default();
        let mut owners: HashMap<String, usize> = HashMap::new();
        for (owner, _) in leases.values() {
            if let Some(o) = owner {
                *owners.entry(o.clone()).or_default() += 1;
            }
        }
        if leases.len() == 4 && ok(&owners) {
            return Ok(leases);
        }
        for m in members.iter_mut() {
            m.weir.check_running()?;
        }
        if Instant::now() > deadline {
            return Err(format!("after 60 s, not {what}: {leases:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_processes_share_shards_and_one_takes_over_after_a_sigkill() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let stream = unique("leases");
    let table = unique("weir-leases");
    aws.create_stream(&stream, 4)?;
    let dir = tempfile::tempdir()?;

    let mut a = member(dir.path(), "a", &stream, &table)?;
    wait_for_owners(
        &aws,
        &table,
        "all four with a",
        |o| o.get("a") == Some(&4),
        &mut [&mut a],
    )?;
    let mut b = member(dir.path(), "b", &stream, &table)?;
    wait_for_owners(
        &aws,
        &table,
        "two each",
        |o| o.get("a") == Some(&2) && o.get("b") == Some(&2),
        &mut [&mut a, &mut b],
    )?;
    // `a` notices at its next renewal that two leases moved; until then
    // both would read those shards. Records come only after that.
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.weir.log_text().matches("lease lost").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "`a` never noticed: {}",
            a.weir.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let producer = spawn_producer(&stream, BATCHES, PER_BATCH, 101);

    // Both are working, with checkpoints written, when `a` dies.
    wait_for_lines(&a.out, 300, Duration::from_secs(60), &mut [&mut a.weir])?;
    wait_for_lines(&b.out, 300, Duration::from_secs(60), &mut [&mut b.weir])?;
    std::thread::sleep(Duration::from_secs(2));
    a.weir.kill()?;
    let at_kill = aws.leases(&table)?;
    let a_shards: HashSet<String> = at_kill
        .iter()
        .filter(|(_, (owner, _))| owner.as_deref() == Some("a"))
        .map(|(shard, _)| shard.clone())
        .collect();
    assert_eq!(a_shards.len(), 2, "{at_kill:?}");

    let placed = producer.join().map_err(|_| "the producer panicked")??;
    let total = (BATCHES * PER_BATCH) as usize;
    let final_leases = wait_for_owners(
        &aws,
        &table,
        "all four with b",
        |o| o.get("b") == Some(&4),
        &mut [&mut b],
    )?;
    let _ = final_leases;

    let union = |paths: [&PathBuf; 2]| -> Result<Vec<u64>, Error> {
        let mut all = Vec::new();
        for p in paths {
            all.extend(read_lines(p)?.iter().filter_map(number));
        }
        Ok(all)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let distinct: HashSet<u64> = union([&a.out, &b.out])?.into_iter().collect();
        if distinct.len() >= total {
            break;
        }
        b.weir.check_running()?;
        if Instant::now() > deadline {
            return Err(format!(
                "{} of {total} records after 120 s; log of b:\n{}",
                distinct.len(),
                b.weir.log_tail()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(1));
    b.weir.stop()?;

    // Nothing missing; every repeat lies past the checkpoint `a` left.
    let where_put: HashMap<u64, (&str, &str)> = placed
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&p.data).unwrap_or_default();
            (
                number(&v).unwrap_or(u64::MAX),
                (p.shard.as_str(), p.seq.as_str()),
            )
        })
        .collect();
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for n in union([&a.out, &b.out])? {
        *counts.entry(n).or_default() += 1;
    }
    assert_eq!(counts.len(), total, "distinct records processed");
    let mut repeats = 0;
    for (n, c) in &counts {
        if *c > 1 {
            repeats += c - 1;
            let (shard, seq) = where_put[n];
            assert!(
                a_shards.contains(shard),
                "record {n} of {shard}, not a shard of `a`, repeated"
            );
            let checkpoint = &at_kill[shard].1;
            // A checkpoint that is not a sequence number (TRIM_HORIZON) has
            // nothing acknowledged: any repeat is past it.
            let numeric = checkpoint.chars().all(|c| c.is_ascii_digit());
            let past = !numeric || compare_seq(seq, checkpoint).is_gt();
            assert!(
                past,
                "record {n} ({shard} {seq}) was checkpointed at {checkpoint} yet repeated"
            );
        }
    }
    let b_log = std::fs::read_to_string(dir.path().join("b").join("b.log"))?;
    assert!(b_log.contains("took over the lease"), "{b_log}");
    // `b` stopped cleanly: every lease released, checkpoints written.
    let released = aws.leases(&table)?;
    assert!(
        released
            .values()
            .all(|(owner, cp)| owner.is_none() && cp.chars().all(|c| c.is_ascii_digit())),
        "{released:?}"
    );
    eprintln!("repeats after the SIGKILL: {repeats}");
    Ok(())
}
