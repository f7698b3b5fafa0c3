//! 100,000 transactions Kafka → amount filter + fraud scorer → Kafka, then
//! a restart after SIGKILL.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use weir_test_support::native::{FraudScorer, amount_keep};

use crate::common::*;

const MIN_AMOUNT: f64 = 20.0;

fn config(
    dir: &std::path::Path,
    input: &str,
    group: &str,
    scored: &str,
    alerts: &str,
) -> Result<std::path::PathBuf, Error> {
    write_config(
        dir,
        &format!(
            r#"name = "kafka-fraud"

{}
[batch]
max_records = 500
max_wait_ms = 50

[[stages]]
name = "big"
plugin = "{}"
settings = {{ min_amount = {MIN_AMOUNT} }}

[[stages]]
name = "score"
plugin = "{}"

[[routes]]
sink = "alerts"
when = "score >= 0.7"

[[routes]]
sink = "scored"

{}
{}"#,
            source(input, group),
            plugin("amount_filter"),
            plugin("fraud_scorer"),
            sink("alerts", alerts),
            sink("scored", scored),
        ),
    )
}

/// What the plugins should produce, computed natively from the input
/// topic: the kept transactions and the alerts.
fn expected(input: &[Msg]) -> Result<(BTreeSet<u64>, BTreeSet<u64>), Error> {
    let mut scorer = FraudScorer::default();
    let (mut kept, mut alerts) = (BTreeSet::new(), BTreeSet::new());
    // Each card's transactions are in one partition, in order: scoring
    // partition by partition gives each card's history in order.
    for m in input {
        if !amount_keep(&m.value, MIN_AMOUNT)? {
            continue;
        }
        let id = m.txn().ok_or("no txn_id")?;
        kept.insert(id);
        if scorer.score(&m.value)?.0 >= 0.7 {
            alerts.insert(id);
        }
    }
    Ok((kept, alerts))
}

/// Within each output partition, each card's transactions are in
/// generation order.
fn assert_key_order(out: &[Msg]) -> TestResult {
    let mut last: BTreeMap<(i32, Vec<u8>), u64> = BTreeMap::new();
    for m in out {
        let id = m.txn().ok_or("no txn_id")?;
        let key = (m.partition, m.key.clone().ok_or("output without key")?);
        if let Some(prev) = last.insert(key, id) {
            assert!(prev < id, "t-{id} came after t-{prev} of the same card");
        }
    }
    Ok(())
}

fn ids(out: &[Msg]) -> Result<Vec<u64>, Error> {
    out.iter()
        .map(|m| m.txn().ok_or_else(|| "no txn_id".into()))
        .collect()
}

#[test]
fn hundred_thousand_records_through_filter_and_scorer() -> TestResult {
    let _serial = serial();
    let (input, scored, alerts) = (unique("transactions"), unique("scored"), unique("alerts"));
    create_topic(&input, 6)?;
    create_topic(&scored, 6)?;
    create_topic(&alerts, 3)?;
    produce_transactions(&input, 100_000, 7)?;
    let records = read_all(&input)?;
    assert_eq!(records.len(), 100_000);
    let (kept, alerted) = expected(&records)?;

    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), &input, &unique("fraud"), &scored, &alerts)?;
    let mut weir = Weir::start(&config, "weir")?;
    wait_for_count(
        &scored,
        kept.len() as u64,
        Duration::from_secs(240),
        &mut [&mut weir],
    )?;
    wait_for_count(
        &alerts,
        alerted.len() as u64,
        Duration::from_secs(30),
        &mut [&mut weir],
    )?;
    weir.stop()?;

    let out = read_all(&scored)?;
    let got = ids(&out)?;
    assert_eq!(got.len(), kept.len(), "no record twice");
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        kept,
        "every kept record arrives"
    );
    assert_key_order(&out)?;
    let alert_out = read_all(&alerts)?;
    assert_eq!(
        ids(&alert_out)?.into_iter().collect::<BTreeSet<_>>(),
        alerted
    );
    assert_eq!(alert_out.len(), alerted.len());
    assert!(
        kept.len() < 100_000 && alerted.len() > 100,
        "{} kept, {} alerts",
        kept.len(),
        alerted.len()
    );
    Ok(())
}

/// SIGKILL mid-stream, then start again with the same group and data
/// directory: nothing is lost, repeats are only records past the committed
/// offsets, and the scorer's state saw every transaction once.
#[test]
fn restart_after_sigkill_resumes_from_committed_offsets() -> TestResult {
    let _serial = serial();
    let (input, scored, alerts) = (unique("transactions"), unique("scored"), unique("alerts"));
    let group = unique("fraud");
    create_topic(&input, 4)?;
    create_topic(&scored, 4)?;
    create_topic(&alerts, 1)?;
    produce_transactions(&input, 40_000, 11)?;
    let records = read_all(&input)?;
    let (kept, alerted) = expected(&records)?;
    let dir = tempfile::tempdir()?;
    let config = config(dir.path(), &input, &group, &scored, &alerts)?;

    // The first process works in batches of 20 (same name, so the same
    // data directory): slow enough to be killed mid-stream, not after it
    // has read everything, however fast the machine.
    let slow = dir.path().join("slow.toml");
    let text = std::fs::read_to_string(&config)?;
    assert!(text.contains("max_records = 500"));
    std::fs::write(&slow, text.replace("max_records = 500", "max_records = 20"))?;
    let mut first = Weir::start(&slow, "first")?;
    wait_for_count(&scored, 2_000, Duration::from_secs(120), &mut [&mut first])?;
    first.kill()?;
    let committed = committed(&group, &input)?;
    let written_at_kill = count(&scored)?;

    let mut second = Weir::start(&config, "second")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let got: BTreeSet<u64> = ids(&read_all(&scored)?)?.into_iter().collect();
        if got == kept {
            break;
        }
        second.check_running()?;
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} records after 240 s",
            got.len(),
            kept.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    second.stop()?;

    let out = read_all(&scored)?;
    assert!(
        written_at_kill < kept.len() as u64,
        "killed too late to test anything"
    );
    // Every repeat is a record the group had not committed when killed.
    let position: BTreeMap<u64, (i32, i64)> = records
        .iter()
        .filter_map(|m| Some((m.txn()?, (m.partition, m.offset))))
        .collect();
    let repeats = repeats_past_committed(ids(&out)?, &position, &committed)?;
    eprintln!("{repeats} repeats after SIGKILL; committed at kill: {committed:?}");
    let alert_ids: BTreeSet<u64> = ids(&read_all(&alerts)?)?.into_iter().collect();
    assert_eq!(
        alert_ids, alerted,
        "the scorer's state counted no transaction twice"
    );
    Ok(())
}
