//! The plugin engine: world detection, the example plugins, and
//! hostile plugins (trap, endless loop, memory hog) that must not take the
//! host down.

use weir::plugin::{Grants, InstanceOptions, Limits, PluginError, PluginKind, TrapKind};

use super::{TestResult, batch, engine, instance, load};

mod windows;

#[test]
fn detects_the_world_of_each_example_plugin() {
    let e = engine();
    for (name, kind) in [
        ("amount_filter", PluginKind::Filter),
        ("fraud_scorer", PluginKind::Scorer),
        ("telemetry_enricher", PluginKind::Enricher),
        ("center_line_reward", PluginKind::Reward),
        ("test_chaos", PluginKind::Filter),
        ("test_bare", PluginKind::Filter),
        ("test_passthrough", PluginKind::Enricher),
        ("vehicle_window", PluginKind::Aggregator),
        ("test_window_chaos", PluginKind::Aggregator),
        ("anomaly", PluginKind::Aggregator),
    ] {
        let p = load(&e, name);
        assert_eq!(p.kind(), kind, "{name}");
        assert_eq!(p.info().version, "0.2.0");
        assert!(
            p.info()
                .imports
                .iter()
                .all(|i| !i.starts_with("weir:plugin/") || i.ends_with("@0.2.0"))
        );
    }
}

#[test]
fn a_filter_loaded_as_a_scorer_is_refused() {
    let p = load(&engine(), "amount_filter");
    let msg = p
        .expect_kind(PluginKind::Scorer)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        msg,
        "plugin `amount_filter` is a filter plugin (world `weir:plugin/filter`), but it was loaded as a scorer"
    );
}

#[test]
fn another_wit_version_is_refused_naming_both() -> TestResult {
    // A real filter component whose export is renamed to the older version
    // 0.1.0 (same length, so the binary stays well-formed): what a plugin
    // built with an earlier SDK looks like.
    let bytes = std::fs::read(weir_test_support::plugin("amount_filter"))?;
    let (from, to) = (b"filter-plugin@0.2.0", b"filter-plugin@0.1.0");
    let mut patched = bytes.clone();
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= patched.len() {
        if &patched[i..i + from.len()] == from {
            patched[i..i + from.len()].copy_from_slice(to);
            n += 1;
        }
        i += 1;
    }
    assert!(n > 0);
    let err = engine()
        .load("patched", &patched, Grants::default())
        .err()
        .map(|e| e.to_string());
    let msg = err.unwrap_or_default();
    assert!(msg.contains("weir:plugin/filter-plugin@0.2.0"), "{msg}");
    assert!(msg.contains("weir:plugin/filter-plugin@0.1.0"), "{msg}");
    Ok(())
}

#[test]
fn a_core_module_is_not_a_component() {
    let core = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    let err = engine().load("core", &core, Grants::default()).err();
    assert!(
        matches!(err, Some(PluginError::NotAComponent { .. })),
        "{err:?}"
    );
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("not a component"), "{msg}");
}

#[test]
fn garbage_and_missing_files_are_clear_errors() {
    let e = engine();
    let err = e
        .load("junk", b"definitely not wasm", Grants::default())
        .err();
    assert!(matches!(err, Some(PluginError::Compile { .. })), "{err:?}");
    let err = e
        .load_file("/nonexistent/plugin.wasm".as_ref(), Grants::default())
        .err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("/nonexistent/plugin.wasm"), "{msg}");
}

#[test]
fn amount_filter_keeps_above_the_threshold_and_fails_bad_records() -> TestResult {
    let mut f = instance("amount_filter", &[("min_amount", "100")]);
    let out = f
        .process(batch(&[
            r#"{"amount":5}"#,
            r#"{"amount":150.5}"#,
            "not json",
            r#"{"amount":101}"#,
        ]))
        .map_err(|f| f.error)?;
    let kept: Vec<&[u8]> = out.records.iter().map(|r| &r.value[..]).collect();
    assert_eq!(
        kept,
        vec![&br#"{"amount":150.5}"#[..], br#"{"amount":101}"#]
    );
    assert_eq!(out.dropped, 1);
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].record.value, &b"not json"[..]);
    assert!(
        out.failed[0].error.contains("amount"),
        "{}",
        out.failed[0].error
    );
    Ok(())
}

#[test]
fn decide_answers_per_record_and_leaves_the_batch_with_the_caller() -> TestResult {
    let mut f = instance("amount_filter", &[("min_amount", "100")]);
    let lent = batch(&[
        r#"{"amount":5}"#,
        r#"{"amount":150.5}"#,
        "not json",
        r#"{"amount":101}"#,
    ]);
    let verdict = f.decide(&lent)?;
    let kept: Vec<Option<bool>> = (0..5).map(|i| verdict.kept(i)).collect();
    assert_eq!(
        kept,
        vec![Some(false), Some(true), Some(false), Some(true), None]
    );
    assert_eq!(verdict.score(1), None, "a filter gives no scores");
    let errors: Vec<(usize, &str)> = verdict.errors().collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 2);
    assert!(errors[0].1.contains("amount"), "{}", errors[0].1);
    // Applied, the verdict is what `process` returns.
    let out = verdict.apply(lent.clone());
    assert_eq!(
        (out.records.len(), out.dropped, out.failed.len()),
        (2, 1, 1)
    );

    use weir::connectors::generator::{Workload, generator};
    let mut scorer = instance("fraud_scorer", &[]);
    let mut native = weir_test_support::native::FraudScorer::default();
    let mut g = generator(Workload::Transactions, 7);
    let records: Vec<weir::Record> = (0..300)
        .map(|i| {
            let r = g.next_record();
            weir::Record::new(r.value, weir::Position::Offset(i), r.timestamp_ms)
        })
        .collect();
    let lent = weir::Batch::new("tx", "0", records);
    let verdict = scorer.decide(&lent)?;
    for (i, r) in lent.records.iter().enumerate() {
        let (score, labels) = native.score(&r.value)?;
        assert_eq!(verdict.score(i), Some(score), "record {i}");
        assert_eq!(verdict.labels(i).collect::<Vec<_>>(), labels, "record {i}");
        assert_eq!(verdict.kept(i), None, "a scorer keeps nothing");
    }
    assert_eq!(verdict.errors().count(), 0);
    Ok(())
}

#[test]
fn init_errors_carry_the_plugin_message() {
    let p = load(&engine(), "amount_filter");
    let msg = p
        .instantiate(InstanceOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("min_amount"), "{msg}");
    let p = load(&engine(), "test_chaos");
    let msg = p
        .instantiate(InstanceOptions::with_settings([("fail_init", "true")]))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("chaos: init failed as configured"), "{msg}");
}

#[test]
fn fraud_scorer_matches_the_native_rules() -> TestResult {
    use weir::connectors::generator::{Workload, generator};
    let mut scorer = instance("fraud_scorer", &[]);
    let mut native = weir_test_support::native::FraudScorer::default();
    let mut g = generator(Workload::Transactions, 42);
    for chunk in 0..20 {
        let records: Vec<weir::Record> = (0..250)
            .map(|i| {
                let r = g.next_record();
                weir::Record::new(
                    r.value,
                    weir::Position::Offset(chunk * 250 + i),
                    r.timestamp_ms,
                )
                .with_key(r.key)
            })
            .collect();
        let expected: Vec<(f64, Vec<&str>)> = records
            .iter()
            .map(|r| native.score(&r.value))
            .collect::<Result<_, _>>()?;
        let out = scorer
            .process(weir::Batch::new("tx", "0", records))
            .map_err(|f| f.error)?;
        assert!(out.failed.is_empty());
        for (r, (score, labels)) in out.records.iter().zip(expected) {
            assert_eq!(r.score, Some(score), "position {}", r.position);
            assert_eq!(r.labels, labels, "position {}", r.position);
        }
    }
    Ok(())
}

#[test]
fn telemetry_enricher_derives_events_and_zones() -> TestResult {
    let mut e = instance(
        "telemetry_enricher",
        &[("zones", "mitte:52.50,13.36,52.54,13.42")],
    );
    let normal = r#"{"vehicle_id":"v-1","ts":1,"lat":52.52,"lon":13.40,"speed_kmh":100.0,"engine_temp_c":90.0,"fuel_pct":50.0,"accel_mps2":-1.0}"#;
    let braking = r#"{"vehicle_id":"v-2","ts":2,"lat":52.60,"lon":13.30,"speed_kmh":50.0,"engine_temp_c":90.0,"fuel_pct":50.0,"accel_mps2":-9.0}"#;
    let out = e
        .process(batch(&[normal, braking, "[1,2]"]))
        .map_err(|f| f.error)?;
    assert_eq!(out.records.len(), 3, "normal, braking, braking event");
    let first: serde_json::Value = serde_json::from_slice(&out.records[0].value)?;
    assert_eq!(first["zone"], "mitte");
    assert!((first["speed_mph"].as_f64().unwrap_or(0.0) - 62.137).abs() < 0.01);
    assert!((first["engine_temp_f"].as_f64().unwrap_or(0.0) - 194.0).abs() < 0.01);
    assert_eq!(first["events"], serde_json::json!([]));
    let second: serde_json::Value = serde_json::from_slice(&out.records[1].value)?;
    assert_eq!(second["events"], serde_json::json!(["harsh-braking"]));
    assert_eq!(second["zone"], serde_json::Value::Null);
    assert_eq!(
        out.records[2].header("weir-event"),
        Some(&b"harsh-braking"[..])
    );
    assert_eq!(out.records[2].position, weir::Position::Offset(1));
    assert_eq!(out.failed.len(), 1);
    Ok(())
}

#[test]
fn center_line_reward_follows_the_sample() -> TestResult {
    use weir::connectors::generator::{Workload, generator};
    let mut r = instance("center_line_reward", &[]);
    let mut g = generator(Workload::Race, 1);
    let values: Vec<Vec<u8>> = (0..300).map(|_| g.next_record().value).collect();
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| weir::Record::new(v.clone(), weir::Position::Offset(i as u64), 0))
        .collect();
    let out = r
        .process(weir::Batch::new("race", "0", records))
        .map_err(|f| f.error)?;
    assert_eq!(out.records.len(), 300);
    for (rec, v) in out.records.iter().zip(&values) {
        let p: serde_json::Value = serde_json::from_slice(v)?;
        let d = p["distance_from_center"].as_f64().unwrap_or(f64::NAN);
        let w = p["track_width"].as_f64().unwrap_or(f64::NAN);
        assert_eq!(
            rec.score,
            Some(weir_test_support::native::center_line_reward(d, w))
        );
    }
    // A record that is not a params object fails alone.
    let out = r.process(batch(&["{}"])).map_err(|f| f.error)?;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0].error.contains("DeepRacer"),
        "{}",
        out.failed[0].error
    );
    Ok(())
}

fn chaos(limits: Limits) -> weir::plugin::PluginInstance {
    let p = load(&engine(), "test_chaos");
    let options = InstanceOptions::default().with_limits(limits);
    match p.instantiate(options) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    }
}

fn expect_trap(inst: &mut weir::plugin::PluginInstance, value: &str) -> (TrapKind, String) {
    match inst.process(batch(&["ok", value, "ok"])) {
        Ok(o) => panic!("expected a trap, got {o:?}"),
        Err(f) => {
            assert_eq!(f.batch.records.len(), 3, "the batch is handed back");
            (
                f.error.trap_kind().unwrap_or(TrapKind::Other),
                f.error.to_string(),
            )
        }
    }
}

fn still_works(inst: &mut weir::plugin::PluginInstance) -> TestResult {
    let out = inst
        .process(batch(&["a", "fail", "b"]))
        .map_err(|f| f.error)?;
    assert_eq!(out.records.len(), 2);
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].error, "chaos: asked to fail");
    Ok(())
}

#[test]
fn a_panicking_plugin_traps_and_the_next_batch_runs() -> TestResult {
    let mut c = chaos(Limits::default());
    let (kind, msg) = expect_trap(&mut c, "trap");
    assert_eq!(kind, TrapKind::Panic, "{msg}");
    assert!(
        msg.contains("chaos: trap requested"),
        "the panic message is reported: {msg}"
    );
    still_works(&mut c)
}

#[test]
fn an_endless_loop_is_stopped_by_the_deadline() -> TestResult {
    let mut c = chaos(Limits::default().with_deadline_ms(100));
    let started = std::time::Instant::now();
    let (kind, msg) = expect_trap(&mut c, "loop");
    assert_eq!(kind, TrapKind::Deadline, "{msg}");
    assert!(msg.contains("100 ms deadline"), "{msg}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    still_works(&mut c)
}

#[test]
fn growing_memory_past_the_limit_traps() -> TestResult {
    let mut c = chaos(Limits::default().with_memory_mb(48));
    let (kind, msg) = expect_trap(&mut c, "grow");
    assert_eq!(kind, TrapKind::Memory, "{msg}");
    assert!(msg.contains("48 MiB memory limit"), "{msg}");
    still_works(&mut c)
}

#[test]
fn bare_and_passthrough_plugins_keep_everything() -> TestResult {
    let mut b = instance("test_bare", &[]);
    let out = b.process(batch(&["a", "b"])).map_err(|f| f.error)?;
    assert_eq!((out.records.len(), out.dropped), (2, 0));
    let mut p = instance("test_passthrough", &[]);
    let mut input = batch(&["a", "b"]);
    input.records[0] = input.records[0]
        .clone()
        .with_key(b"k".to_vec())
        .with_header("h", b"v".to_vec());
    let out = p.process(input).map_err(|f| f.error)?;
    assert_eq!(out.records.len(), 2);
    assert_eq!(out.records[0].key.as_deref(), Some(&b"k"[..]));
    assert_eq!(out.records[0].header("h"), Some(&b"v"[..]));
    Ok(())
}

#[test]
fn an_empty_component_implements_no_world() {
    let msg = engine()
        .load(
            "x",
            &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
            Grants::default(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("implements no weir plugin world"), "{msg}");
}

#[test]
fn a_plugin_granted_wasi_links_and_runs() -> TestResult {
    let plugin = engine().load_file(
        &weir_test_support::plugin("amount_filter"),
        Grants::none().with_wasi(true),
    )?;
    let mut f = plugin.instantiate(InstanceOptions::with_settings([("min_amount", "1")]))?;
    let out = f
        .process(batch(&[r#"{"amount":2}"#]))
        .map_err(|f| f.error)?;
    assert_eq!(out.records.len(), 1);
    Ok(())
}

#[test]
fn an_engine_without_deadlines_runs_the_same_plugins() -> TestResult {
    use weir::plugin::{Engine, EngineConfig};
    let engine = Engine::with_config(&EngineConfig::default().with_deadlines(false))?;
    assert!(!engine.has_deadlines());
    let plugin = engine.load_file(
        &weir_test_support::plugin("amount_filter"),
        Grants::default(),
    )?;
    let mut f = plugin.instantiate(InstanceOptions::with_settings([("min_amount", "10")]))?;
    let out = f
        .process(batch(&[r#"{"amount":2}"#, r#"{"amount":20}"#]))
        .map_err(|f| f.error)?;
    assert_eq!((out.records.len(), out.dropped), (1, 1));
    Ok(())
}
