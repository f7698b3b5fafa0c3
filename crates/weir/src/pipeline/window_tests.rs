//! Tests of the window operator: its storage layout, a window that cannot
//! be emitted, and the bytes a batch writes.

use std::time::Duration;

use super::*;
use crate::plugin::{Engine, Grants, InstanceOptions};
use crate::record::Position;
use crate::state::{StateStore, next_tag};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The `test_window_chaos` aggregator: counts records per window, fails
/// `emit` for keys containing `bad`, pads accumulators to
/// `accumulator_bytes`.
fn chaos(accumulator_bytes: usize) -> Result<PluginInstance, PluginError> {
    let engine = Engine::new()?;
    let plugin = engine.load_file(
        &weir_test_support::plugin("test_window_chaos"),
        Grants::default(),
    )?;
    plugin.instantiate(InstanceOptions::with_settings([(
        "accumulator_bytes",
        accumulator_bytes.to_string(),
    )]))
}

fn windows(state: StateHandle) -> Windows {
    Windows::new(
        &WindowConfig::new(Duration::from_secs(60)),
        state,
        Counter::default(),
    )
}

fn policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        backoff: Duration::from_millis(1),
        bisect: false,
    }
}

/// A batch of partition `0`: one record per `(key, timestamp)`, at
/// offsets from `first`.
fn batch(first: u64, records: &[(&str, i64)]) -> Batch {
    let records = records
        .iter()
        .zip(first..)
        .map(|(&(key, ts), offset)| {
            Record::new(b"{}".to_vec(), Position::Offset(offset), ts)
                .with_key(key.as_bytes().to_vec())
        })
        .collect();
    Batch::new("input", "0", records)
}

/// Runs `batch` through `w`; the outcome and the call's tag.
fn run(
    w: &Windows,
    instance: &mut PluginInstance,
    batch: Batch,
    retries: u32,
) -> Result<(Outcome, u64), PluginError> {
    let tag = next_tag();
    instance.set_write_tag(tag);
    w.process(instance, batch, tag, &policy(retries))
        .map(|o| (o, tag))
        .map_err(|f| f.error)
}

/// The JSON values of `outcome`'s records.
fn values(outcome: &Outcome) -> Vec<serde_json::Value> {
    outcome
        .records
        .iter()
        .map(|r| serde_json::from_slice(&r.value).unwrap_or_default())
        .collect()
}

fn summary(key: &str, start: i64, count: u64) -> serde_json::Value {
    serde_json::json!({"key": key, "start": start, "end": start + 60_000, "count": count})
}

#[test]
fn layout_round_trips_and_rejects_truncation() {
    let meta = encode_meta(Some(120_000), 7);
    assert_eq!(meta.len(), 17);
    assert_eq!(decode_meta(&meta), Ok((Some(120_000), 7)));
    assert_eq!(decode_meta(&encode_meta(None, 0)), Ok((None, 0)));
    assert!(decode_meta(&meta[..16]).is_err());
    let slot = encode_slot(b"car-1", 60_000, &[1, 2, 3]);
    assert_eq!(
        decode_slot(&slot),
        Ok((&b"car-1"[..], 60_000, &[1u8, 2, 3][..]))
    );
    assert_eq!(
        decode_slot(&encode_slot(b"", -60_000, &[])),
        Ok((&b""[..], -60_000, &[][..]))
    );
    assert!(decode_slot(&slot[..12]).is_err());
}

#[test]
fn slots_are_reused_and_trailing_free_ones_dropped() {
    let mut p = Partition::default();
    let (a, b, c) = (p.allocate(), p.allocate(), p.allocate());
    assert_eq!((a, b, c, p.slots), (0, 1, 2, 3));
    p.release(b);
    assert_eq!(p.allocate(), 1, "the lowest free slot first");
    p.release(b);
    p.release(c);
    assert_eq!((p.slots, p.free.len()), (1, 0), "slots 1 and 2 dropped");
}

/// The single-value table of the previous layout, as it wrote it.
fn legacy_table(watermark: i64, open: &[(&[u8], i64, &[u8])]) -> Vec<u8> {
    let mut out = vec![LEGACY_VERSION];
    out.extend_from_slice(&watermark.to_le_bytes());
    out.extend_from_slice(&(open.len() as u64).to_le_bytes());
    for (key, start, acc) in open {
        out.extend_from_slice(&(key.len() as u64).to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&(acc.len() as u64).to_le_bytes());
        out.extend_from_slice(acc);
    }
    out
}

/// A data directory of the previous layout is read, migrated by the
/// partition's first batch (committed with it), and read back from the
/// new layout after a restart.
#[test]
fn the_previous_layout_is_read_and_migrated() -> TestResult {
    let dir = tempfile::tempdir()?;
    let namespace = "per-key\u{1}windows";
    {
        let store = StateStore::open(dir.path())?;
        let state = store.namespace(namespace);
        let three = 3u64.to_le_bytes();
        let five = 5u64.to_le_bytes();
        state.set(
            "0",
            legacy_table(30_000, &[(b"a", 0, &three), (b"b", 0, &five)]),
        );
        state.flush()?;
    }
    let mut instance = chaos(8)?;
    {
        let store = StateStore::open(dir.path())?;
        let state = store.namespace(namespace);
        let w = windows(state.clone());
        let (out, tag) = run(&w, &mut instance, batch(0, &[("a", 40_000)]), 0)?;
        assert!(out.records.is_empty() && out.failed.is_empty(), "{out:?}");
        store.commit(std::slice::from_ref(&state), &[tag], &[])?;
        assert_eq!(state.get("0")?, None, "the old value is deleted");
        assert!(state.get("0\u{0}m")?.is_some());
    }
    // A restart reads the migrated windows.
    let store = StateStore::open(dir.path())?;
    let state = store.namespace(namespace);
    assert_eq!(state.get("0")?, None);
    let w = windows(state);
    let (out, _) = run(&w, &mut instance, batch(1, &[("a", 60_000)]), 0)?;
    assert_eq!(values(&out), [summary("a", 0, 4), summary("b", 0, 5)]);
    Ok(())
}

/// One window whose `emit` fails: it is retried, dead-lettered once with
/// its key, bounds, attempts and the plugin's error, and removed; every
/// other window closing with it is emitted, and later batches of the
/// partition are unaffected.
#[test]
fn a_window_that_fails_to_emit_fails_alone() -> TestResult {
    let store = StateStore::in_memory();
    let w = windows(store.namespace("w"));
    let mut instance = chaos(8)?;
    let (out, _) = run(
        &w,
        &mut instance,
        batch(
            0,
            &[
                ("good-1", 1_000),
                ("bad-1", 2_000),
                ("good-2", 3_000),
                ("good-1", 4_000),
            ],
        ),
        2,
    )?;
    assert!(out.records.is_empty() && out.failed.is_empty(), "{out:?}");

    // Closes the three windows of [0, 60000); bad-1's cannot be emitted.
    let (out, _) = run(
        &w,
        &mut instance,
        batch(4, &[("good-1", 61_000), ("bad-1", 62_000)]),
        2,
    )?;
    assert_eq!(
        values(&out),
        [summary("good-1", 0, 2), summary("good-2", 0, 1)]
    );
    assert!(
        out.records
            .iter()
            .all(|r| r.timestamp_ms == 59_999 && r.position == Position::Offset(5))
    );
    assert_eq!(out.failed.len(), 1, "{:?}", out.failed);
    let letter = &out.failed[0];
    assert!(
        letter.error.starts_with(
            "emit of the window [0, 60000) of key `bad-1` failed (3 attempts); the window was removed"
        ) && letter.error.contains("window-chaos: emit fails for the window of key `bad-1`"),
        "{}",
        letter.error
    );
    assert_eq!(letter.record.key.as_deref(), Some(&b"bad-1"[..]));
    assert_eq!(
        &letter.record.value[..],
        &1u64.to_le_bytes()[..],
        "the accumulator"
    );
    assert_eq!(letter.record.position, Position::Offset(5));
    let header = |name: &str| {
        letter
            .record
            .headers
            .iter()
            .find(|h| &*h.name == name)
            .map(|h| h.value.to_vec())
    };
    assert_eq!(header(WINDOW_START_HEADER), Some(b"0".to_vec()));
    assert_eq!(header(WINDOW_END_HEADER), Some(b"60000".to_vec()));

    // The window is gone: later batches never see it again, and the
    // partition's other windows go on.
    let (out, _) = run(&w, &mut instance, batch(6, &[("good-2", 100_000)]), 2)?;
    assert!(out.records.is_empty() && out.failed.is_empty(), "{out:?}");
    let (out, _) = run(&w, &mut instance, batch(7, &[("good-3", 130_000)]), 0)?;
    assert_eq!(
        values(&out),
        [summary("good-1", 60_000, 1), summary("good-2", 60_000, 1)]
    );
    assert_eq!(out.failed.len(), 1, "bad-1's next window, once");
    assert!(
        out.failed[0]
            .error
            .contains("window [60000, 120000) of key `bad-1` failed (1 attempt)")
    );
    assert_eq!(w.closed.get(), 6);
    Ok(())
}

/// The bytes a batch hands the state store depend on the windows it
/// changes, not on how many are open.
#[test]
fn bytes_written_per_batch_do_not_grow_with_open_windows() -> TestResult {
    const ACC: usize = 16 << 10;
    let mut per_batch = Vec::new();
    for open in [10usize, 1_000] {
        let store = StateStore::in_memory();
        let w = windows(store.namespace("w"));
        let mut instance = chaos(ACC)?;
        let keys: Vec<String> = (0..open).map(|i| format!("vehicle-{i:05}")).collect();
        let opening: Vec<(&str, i64)> = keys.iter().map(|k| (k.as_str(), 1_000)).collect();
        run(&w, &mut instance, batch(0, &opening), 0)?;
        assert!(
            w.bytes_written() as usize >= open * ACC,
            "the first batch writes every new window"
        );
        // Batches that fold one record each into one open window.
        let mut sizes = Vec::new();
        for i in 0..5u64 {
            let before = w.bytes_written();
            let key = keys[i as usize % open].as_str();
            run(
                &w,
                &mut instance,
                batch(open as u64 + i, &[(key, 2_000)]),
                0,
            )?;
            sizes.push(w.bytes_written() - before);
        }
        per_batch.push(sizes);
    }
    assert_eq!(per_batch[0], per_batch[1], "{per_batch:?}");
    // One window (key, start, accumulator) and the 17-byte header, with
    // their keys.
    assert!(
        per_batch[0].iter().all(|&n| n < ACC as u64 + 100),
        "{per_batch:?}"
    );
    Ok(())
}

/// A failed call changes no window: the next attempt folds the same
/// records into the same accumulators.
#[test]
fn a_failed_call_leaves_the_windows_as_they_were() -> TestResult {
    let store = StateStore::in_memory();
    let state = store.namespace("w");
    let w = windows(state.clone());
    let mut instance = chaos(8)?;
    run(&w, &mut instance, batch(0, &[("a", 1_000)]), 0)?;
    // Past the accumulator limit (1 MiB by default): the call fails.
    let mut big = chaos(2 << 20)?;
    let tag = next_tag();
    big.set_write_tag(tag);
    let err = w
        .process(
            &mut big,
            batch(1, &[("a", 2_000), ("b", 3_000)]),
            tag,
            &policy(0),
        )
        .err()
        .map(|f| f.error.to_string())
        .unwrap_or_default();
    assert!(err.contains("`limits.accumulator_kb`"), "{err}");
    state.rollback(tag);
    let (out, _) = run(
        &w,
        &mut instance,
        batch(1, &[("a", 2_000), ("b", 61_000)]),
        0,
    )?;
    assert_eq!(values(&out), [summary("a", 0, 2)]);
    Ok(())
}
