//! The aggregator calls, with the vehicle-window example plugin.

use weir::plugin::{ClosedWindow, InstanceOptions, PluginError, WindowGroup};
use weir::{Batch, Position, Record};

use super::super::{TestResult, batch, engine, instance, load};

fn reading(vehicle: &str, ts: i64, speed: f64, accel: f64) -> Record {
    let value = format!(
        r#"{{"vehicle_id":"{vehicle}","ts":{ts},"lat":52.5,"lon":13.4,"speed_kmh":{speed},"engine_temp_c":90.0,"fuel_pct":50.0,"accel_mps2":{accel}}}"#
    );
    Record::new(value.into_bytes(), Position::Offset(ts as u64), ts)
        .with_key(vehicle.as_bytes().to_vec())
}

fn group(vehicle: &str, start: i64, accumulator: Option<&[u8]>, records: &[u32]) -> WindowGroup {
    WindowGroup {
        key: vehicle.as_bytes().to_vec(),
        start,
        end: start + 60_000,
        accumulator: accumulator.map(<[u8]>::to_vec),
        records: records.to_vec(),
    }
}

#[test]
fn vehicle_window_averages_over_two_batches() -> TestResult {
    let mut w = instance("vehicle_window", &[]);
    let mut bad = Record::new(b"not json".to_vec(), Position::Offset(9), 2_500);
    bad.key = Some(weir::Bytes::from_static(b"v-2"));
    let first = Batch::new(
        "telemetry",
        "0",
        vec![
            reading("v-1", 1_000, 50.0, -1.0),
            reading("v-2", 1_500, 100.0, 0.5),
            reading("v-1", 2_000, 70.0, -9.0),
            bad,
        ],
    );
    let groups = [
        group("v-1", 0, None, &[0, 2]),
        group("v-2", 0, None, &[1, 3]),
    ];
    let acc = w.accumulate(&first, &groups)?;
    assert_eq!(acc.accumulators.len(), 2);
    assert_eq!(acc.errors.len(), 1);
    assert_eq!(acc.errors[0].0, 3);
    assert!(
        acc.errors[0].1.contains("not a JSON telemetry object"),
        "{:?}",
        acc.errors
    );

    let second = Batch::new(
        "telemetry",
        "0",
        vec![
            reading("v-1", 61_000, 10.0, 0.0),
            reading("v-1", 3_000, 30.0, 0.0),
            reading("v-2", 3_500, 80.0, -7.5),
        ],
    );
    let groups = [
        group("v-1", 0, Some(&acc.accumulators[0]), &[1]),
        group("v-2", 0, Some(&acc.accumulators[1]), &[2]),
        group("v-1", 60_000, None, &[0]),
    ];
    let acc = w.accumulate(&second, &groups)?;
    assert!(acc.errors.is_empty(), "{:?}", acc.errors);
    assert_eq!(acc.accumulators.len(), 3);

    let closed: Vec<ClosedWindow> = ["v-1", "v-2"]
        .iter()
        .zip(&acc.accumulators)
        .map(|(vehicle, accumulator)| ClosedWindow {
            key: vehicle.as_bytes().to_vec(),
            start: 0,
            end: 60_000,
            accumulator: accumulator.clone(),
        })
        .collect();
    let out = w.emit(&closed)?;
    assert_eq!(out.len(), 2);
    let json = |i: usize| serde_json::from_slice::<serde_json::Value>(&out[i].value);
    let (v1, v2) = (json(0)?, json(1)?);
    assert_eq!(
        (out[0].window, out[0].key.as_deref()),
        (0, Some(&b"v-1"[..]))
    );
    assert_eq!(
        (out[1].window, out[1].key.as_deref()),
        (1, Some(&b"v-2"[..]))
    );
    assert_eq!(
        v1,
        serde_json::json!({"vehicle": "v-1", "window_start": 0, "window_end": 60_000, "count": 3,
            "avg_speed_kmh": 50.0, "max_speed_kmh": 70.0, "harsh_brakings": 1,
            "max_engine_temp_c": 90.0})
    );
    assert_eq!(
        (v2["count"].as_u64(), v2["avg_speed_kmh"].as_f64()),
        (Some(2), Some(90.0))
    );
    assert_eq!(
        (v2["max_speed_kmh"].as_f64(), v2["harsh_brakings"].as_u64()),
        (Some(100.0), Some(1))
    );
    Ok(())
}

#[test]
fn an_unreadable_accumulator_fails_its_records_and_is_kept() -> TestResult {
    let mut w = instance("vehicle_window", &[]);
    let b = Batch::new("telemetry", "0", vec![reading("v-1", 1, 50.0, 0.0)]);
    let acc = w.accumulate(&b, &[group("v-1", 0, Some(b"junk"), &[0])])?;
    assert_eq!(acc.accumulators, vec![b"junk".to_vec()]);
    assert_eq!(acc.errors.len(), 1);
    assert!(
        acc.errors[0]
            .1
            .contains("cannot load the window's accumulator"),
        "{:?}",
        acc.errors
    );
    // Nothing to do: the plugin is not called.
    assert!(w.accumulate(&b, &[])?.accumulators.is_empty());
    assert!(w.emit(&[])?.is_empty());
    Ok(())
}

#[test]
fn process_on_an_aggregator_is_a_clear_error() {
    let mut w = instance("vehicle_window", &[]);
    let failure = match w.process(batch(&["{}"])) {
        Ok(o) => panic!("expected an error, got {o:?}"),
        Err(f) => f,
    };
    assert_eq!(failure.batch.records.len(), 1, "the batch is handed back");
    assert!(
        matches!(failure.error, PluginError::UnsupportedCall { .. }),
        "{:?}",
        failure.error
    );
    let msg = failure.error.to_string();
    assert!(
        msg.starts_with(
            "plugin `vehicle_window` is an aggregator plugin, which has no `process` call"
        ),
        "{msg}"
    );
    assert!(msg.contains("`accumulate` and `emit`"), "{msg}");
}

#[test]
fn window_calls_on_another_kind_are_clear_errors() {
    let mut f = instance("amount_filter", &[("min_amount", "1")]);
    let err = f
        .accumulate(&batch(&["{}"]), &[group("k", 0, None, &[0])])
        .err();
    assert!(
        matches!(err, Some(PluginError::UnsupportedCall { .. })),
        "{err:?}"
    );
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.starts_with(
            "plugin `amount_filter` is a filter plugin, which has no `accumulate` call"
        ),
        "{msg}"
    );
    let msg = f.emit(&[]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("no `emit` call"), "{msg}");
}

fn closed(key: &str, count: u64) -> ClosedWindow {
    ClosedWindow {
        key: key.as_bytes().to_vec(),
        start: 0,
        end: 60_000,
        accumulator: count.to_le_bytes().to_vec(),
    }
}

#[test]
fn a_window_that_fails_to_emit_fails_alone() -> TestResult {
    let mut w = instance("test_window_chaos", &[]);
    let windows = [
        closed("a", 1),
        closed("b", 2),
        closed("bad-1", 3),
        closed("c", 4),
    ];
    let err = w
        .emit(&windows)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("window-chaos: emit fails for the window of key `bad-1`"),
        "{err}"
    );
    let emitted = w.emit_isolated(&windows)?;
    let got: Vec<(usize, serde_json::Value)> = emitted
        .records
        .iter()
        .map(|r| {
            (
                r.window,
                serde_json::from_slice(&r.value).unwrap_or_default(),
            )
        })
        .collect();
    let want = |i: usize, key: &str, count: u64| {
        (
            i,
            serde_json::json!({"key": key, "start": 0, "end": 60_000, "count": count}),
        )
    };
    assert_eq!(got, [want(0, "a", 1), want(1, "b", 2), want(3, "c", 4)]);
    assert_eq!(emitted.failed.len(), 1);
    assert_eq!(emitted.failed[0].0, 2);
    assert!(
        matches!(emitted.failed[0].1, PluginError::Trap { .. }),
        "{:?}",
        emitted.failed[0].1
    );
    Ok(())
}

#[test]
fn an_accumulator_past_accumulator_kb_fails_the_call() -> TestResult {
    let b = Batch::new(
        "t",
        "0",
        vec![Record::new(b"{}".to_vec(), Position::Offset(0), 1)],
    );
    let groups = [group("v-1", 0, None, &[0])];
    let plugin = load(&engine(), "test_window_chaos");
    let over = (1024 * 1024 + 1).to_string();
    let settings = [("accumulator_bytes", over.as_str())];

    let mut w = plugin.instantiate(InstanceOptions::with_settings(settings))?;
    let err = w.accumulate(&b, &groups).err();
    let Some(PluginError::Quota { name, quota }) = &err else {
        panic!("expected a quota error, got {err:?}");
    };
    assert_eq!(
        (name.as_str(), quota.field, quota.value),
        ("test_window_chaos", "accumulator_kb", 1024)
    );
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "plugin `test_window_chaos` went past a limit: the accumulator of window [0, 60000) of key \
         `v-1` is 1048577 bytes, past the limit `accumulator_kb` = 1024 KiB (raise \
         `limits.accumulator_kb` in the stage's config)"
    );

    // Raised, the same accumulator is kept.
    let mut options = InstanceOptions::with_settings(settings);
    options.limits.accumulator_kb = 2048;
    let acc = plugin.instantiate(options)?.accumulate(&b, &groups)?;
    assert_eq!(acc.accumulators[0].len(), 1024 * 1024 + 1);
    Ok(())
}
