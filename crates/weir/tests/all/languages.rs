//! The same plugin written in several languages decides the same, record
//! for record: the Rust plugins and their twins built from the other
//! languages' SDKs (plugins/<language>/), over the same 10,000 records,
//! malformed ones among them.

use std::collections::BTreeMap;

use weir::connectors::generator::{Workload, generator};
use weir::plugin::{Engine, EngineConfig, Grants, InstanceOptions, Plugin};
use weir::{Batch, Position, Record};

use super::TestResult;

const RECORDS: u64 = 10_000;
const BATCH: usize = 1_000;

/// The languages each twin exists in, with the grants its runtime needs.
const FILTERS: [(&str, bool); 2] = [("rust", false), ("python", true)];
const ENRICHERS: [(&str, bool); 2] = [("rust", false), ("python", true)];

/// An engine that keeps compiled code (a Python component takes seconds to
/// compile) where the CLI does, or in `WEIR_CACHE_DIR`.
fn engine() -> Engine {
    match Engine::with_config(&EngineConfig::default().with_default_cache()) {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    }
}

fn load(engine: &Engine, language: &str, name: &str, wasi: bool) -> Plugin {
    let path = weir_test_support::plugin_in(language, name);
    match engine.load_file(&path, Grants::none().with_wasi(wasi)) {
        Ok(p) => p,
        Err(e) => panic!("{language} {name}: {e}"),
    }
}

/// Generated records with a malformed one every 97 records.
fn records(workload: Workload) -> Vec<Record> {
    const BAD: [&str; 6] = [
        "not json",
        "[1,2,3]",
        "{}",
        r#"{"amount":"12.5","speed_kmh":"fast"}"#,
        r#"{"amount":true,"ts":1.5}"#,
        r#"{"amount":null}"#,
    ];
    let mut g = generator(workload, 7);
    (0..RECORDS)
        .map(|i| {
            let r = g.next_record();
            let value = if i % 97 == 13 {
                BAD[(i / 97) as usize % BAD.len()].as_bytes().to_vec()
            } else {
                r.value.to_vec()
            };
            Record::new(value, Position::Offset(i), r.timestamp_ms).with_key(r.key)
        })
        .collect()
}

/// One output record: key, value parsed as JSON, headers.
type Output = (Option<Vec<u8>>, serde_json::Value, Vec<(String, Vec<u8>)>);

/// What became of each input record: its outputs (key, value as JSON,
/// headers), or that it failed.
#[derive(Debug, PartialEq)]
enum Fate {
    Out(Vec<Output>),
    Failed,
}

fn fates(plugin: &Plugin, settings: &[(&str, &str)], input: &[Record]) -> BTreeMap<u64, Fate> {
    let options = InstanceOptions::with_settings(settings.iter().copied());
    let mut instance = match plugin.instantiate(options) {
        Ok(i) => i,
        Err(e) => panic!("{}: {e}", plugin.name()),
    };
    let offset = |r: &Record| match r.position {
        Position::Offset(o) => o,
        Position::Sequence(_) => u64::MAX,
    };
    let mut fates: BTreeMap<u64, Fate> = input
        .iter()
        .map(|r| (offset(r), Fate::Out(Vec::new())))
        .collect();
    for chunk in input.chunks(BATCH) {
        let outcome = match instance.process(Batch::new("gen", "0", chunk.to_vec())) {
            Ok(o) => o,
            Err(e) => panic!("{}: {}", plugin.name(), e.error),
        };
        for r in &outcome.records {
            let value = serde_json::from_slice(&r.value).unwrap_or(serde_json::Value::Null);
            let headers = r
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.to_vec()))
                .collect();
            if let Some(Fate::Out(outs)) = fates.get_mut(&offset(r)) {
                outs.push((r.key.as_ref().map(|k| k.to_vec()), value, headers));
            }
        }
        for f in &outcome.failed {
            fates.insert(offset(&f.record), Fate::Failed);
        }
    }
    fates
}

/// Compares every language's fates with the first's, naming the first
/// record that differs.
fn same_everywhere(
    name: &str,
    languages: &[(&str, bool)],
    settings: &[(&str, &str)],
    input: &[Record],
) -> TestResult {
    let engine = engine();
    let mut reference: Option<(&str, BTreeMap<u64, Fate>)> = None;
    for &(language, wasi) in languages {
        let got = fates(&load(&engine, language, name, wasi), settings, input);
        let failed = got.values().filter(|f| **f == Fate::Failed).count();
        assert!(
            failed > 0 && failed < input.len() / 50,
            "{language}: {failed} failed"
        );
        match &reference {
            None => reference = Some((language, got)),
            Some((first, want)) => {
                for (offset, fate) in want {
                    assert_eq!(
                        got.get(offset),
                        Some(fate),
                        "{name}: record {offset} in {language} against {first}"
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn the_amount_filter_decides_the_same_in_every_language() -> TestResult {
    let input = records(Workload::Transactions);
    same_everywhere("amount_filter", &FILTERS, &[("min_amount", "100")], &input)
}

#[test]
fn the_telemetry_enricher_emits_the_same_in_every_language() -> TestResult {
    let input = records(Workload::Telemetry);
    let settings = [("zones", "depot:40,-80,50,-70; yard:30,-100,45,-85")];
    same_everywhere("telemetry_enricher", &ENRICHERS, &settings, &input)
}

/// A Python exception reaches the user with their message and traceback:
/// from `init` as the load error, from one record as that record's error,
/// from a whole call as the call's error; the host keeps going.
#[test]
fn python_exceptions_carry_the_authors_message_and_traceback() -> TestResult {
    let engine = engine();
    let plugin = load(&engine, "python", "test_raise", true);
    let settings =
        |raise_in: &'static str| InstanceOptions::with_settings([("raise_in", raise_in)]);

    let err = plugin
        .instantiate(settings("init"))
        .err()
        .ok_or("init should fail")?
        .to_string();
    for part in [
        "RuntimeError: raised in init as configured",
        "Traceback",
        "app.py",
        "explode",
    ] {
        assert!(err.contains(part), "`{part}` in: {err}");
    }

    let mut instance = plugin.instantiate(settings("record"))?;
    let outcome = instance
        .process(super::batch(&["ok", "please raise", "ok"]))
        .map_err(|f| f.error)?;
    assert_eq!((outcome.records.len(), outcome.failed.len()), (2, 1));
    let error = &outcome.failed[0].error;
    assert!(
        error.starts_with("RuntimeError: raised in record as configured")
            && error.contains("in explode"),
        "{error}"
    );

    let mut instance = plugin.instantiate(settings("call"))?;
    let failure = instance
        .process(super::batch(&["a", "b"]))
        .err()
        .ok_or("the call should fail")?;
    let message = failure.error.to_string();
    for part in [
        "Fatal: the whole call fails as configured",
        "Traceback",
        "in keep",
    ] {
        assert!(message.contains(part), "`{part}` in: {message}");
    }
    // The instance is replaced: the next call runs (and fails the same way).
    assert!(instance.process(super::batch(&["c"])).is_err());
    Ok(())
}
