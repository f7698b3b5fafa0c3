//! Plugin state survives a restart: a scorer that stops and starts again
//! over a persistent store scores exactly like one that never stopped.

use weir::connectors::generator::{Workload, generator};
use weir::plugin::{Grants, InstanceOptions, Limits};
use weir::state::StateStore;
use weir::{Batch, Position, Record};

use super::{TestResult, engine, instance};

fn records(from: u64, to: u64) -> Vec<Record> {
    let mut g = generator(Workload::Transactions, 42);
    (0..to)
        .map(|i| (i, g.next_record()))
        .filter(|(i, _)| *i >= from)
        .map(|(i, r)| Record::new(r.value, Position::Offset(i), r.timestamp_ms))
        .collect()
}

fn scores(out: &weir::plugin::Outcome) -> Vec<(Option<f64>, Vec<String>)> {
    out.records
        .iter()
        .map(|r| (r.score, r.labels.clone()))
        .collect()
}

#[test]
fn state_survives_a_restart() -> TestResult {
    let dir = tempfile::tempdir()?;
    // One instance over all 6,000 records, in memory.
    let mut whole = instance("fraud_scorer", &[]);
    whole
        .process(Batch::new("tx", "0", records(0, 3_000)))
        .map_err(|f| f.error)?;
    let expected = whole
        .process(Batch::new("tx", "0", records(3_000, 6_000)))
        .map_err(|f| f.error)?;

    // First process: 3,000 records, state flushed to disk, process gone.
    {
        let store = StateStore::open(dir.path())?;
        let handle = store.namespace("fraud");
        let plugin = engine().load_file(
            &weir_test_support::plugin("fraud_scorer"),
            Grants::default(),
        )?;
        let mut first =
            plugin.instantiate(InstanceOptions::default().with_state(handle.clone()))?;
        first
            .process(Batch::new("tx", "0", records(0, 3_000)))
            .map_err(|f| f.error)?;
        handle.flush()?;
    }
    // Second process: a new engine and store over the same directory.
    let store = StateStore::open(dir.path())?;
    let plugin = engine().load_file(
        &weir_test_support::plugin("fraud_scorer"),
        Grants::default(),
    )?;
    let mut second =
        plugin.instantiate(InstanceOptions::default().with_state(store.namespace("fraud")))?;
    let resumed = second
        .process(Batch::new("tx", "0", records(3_000, 6_000)))
        .map_err(|f| f.error)?;
    assert_eq!(scores(&resumed), scores(&expected));
    assert!(resumed.records.iter().any(|r| !r.labels.is_empty()));
    Ok(())
}

/// An instance made without a state handle keeps its state in memory, and
/// commits each successful call's writes itself: they never pile up
/// against the state limit, however many calls it makes.
#[test]
fn an_instance_with_its_own_state_commits_each_call() -> TestResult {
    let plugin = engine().load_file(
        &weir_test_support::plugin("fraud_scorer"),
        Grants::default(),
    )?;
    // A 1 MiB state limit (its entries may take 512 KiB). Each call writes
    // back the state of every card in the batch, tens of KiB: 300 calls
    // write many times the limit.
    let limits = Limits::default().with_state_quota(1, 100_000);
    let mut own = plugin.instantiate(InstanceOptions::default().with_limits(limits))?;
    let batch = Batch::new("tx", "0", records(0, 1_000));
    let mut labelled = 0;
    for call in 0..300 {
        let verdict = own
            .decide(&batch)
            .map_err(|e| format!("call {call}: {e}"))?;
        labelled += (0..1_000).map(|i| verdict.labels(i).count()).sum::<usize>();
    }
    // The same records again and again: the cards' state carries over and
    // the velocity rule fires.
    assert!(labelled > 0);
    Ok(())
}
