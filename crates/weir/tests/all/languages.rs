//! The same plugin written in several languages decides the same, record
//! for record: the Rust plugins and their twins built from the other
//! languages' SDKs (plugins/<language>/), over the same 10,000 records,
//! malformed ones among them.

use std::collections::{BTreeMap, BTreeSet};

use weir::connectors::generator::{Workload, generator};
use weir::plugin::{Engine, EngineConfig, Grants, InstanceOptions, Plugin, TumblingWindows};
use weir::{Batch, Position, Record};

use super::TestResult;

const RECORDS: u64 = 10_000;
const BATCH: usize = 1_000;

/// The languages each twin exists in, with the grants its runtime needs.
const FILTERS: [(&str, bool); 5] = [
    ("rust", false),
    ("python", true),
    ("js", false),
    ("c", false),
    ("go", true),
];
const ENRICHERS: [(&str, bool); 3] = [("rust", false), ("python", true), ("js", false)];
const AGGREGATORS: [(&str, bool); 3] = [("rust", false), ("python", true), ("js", false)];

/// An engine that keeps compiled code (a Python component takes seconds to
/// compile) where the CLI does, or in `WEIR_CACHE_DIR`.
pub(super) fn engine() -> Engine {
    match Engine::with_config(&EngineConfig::default().with_default_cache()) {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    }
}

pub(super) fn load(engine: &Engine, language: &str, name: &str, wasi: bool) -> Plugin {
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

fn offset(r: &Record) -> u64 {
    match r.position {
        Position::Offset(o) => o,
        Position::Sequence(_) => u64::MAX,
    }
}

fn fates(plugin: &Plugin, settings: &[(&str, &str)], input: &[Record]) -> BTreeMap<u64, Fate> {
    let options = InstanceOptions::with_settings(settings.iter().copied());
    let mut instance = match plugin.instantiate(options) {
        Ok(i) => i,
        Err(e) => panic!("{}: {e}", plugin.name()),
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
                .map(|h| (h.name.to_string(), h.value.to_vec()))
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

/// The Rust SDK's plugins take packed batches; the other languages' take
/// the columnar one. So the comparisons below also check the two forms.
#[test]
fn rust_plugins_take_packed_batches_and_the_others_columnar() {
    let engine = engine();
    for (language, wasi) in FILTERS {
        let plugin = load(&engine, language, "amount_filter", wasi);
        assert_eq!(plugin.info().packed, language == "rust", "{language}");
    }
    let hostile = engine
        .load_file(
            &weir_test_support::plugin("hostile_filter"),
            Grants::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!hostile.info().packed, "built with `columnar-only`");
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

/// What an author's error looks like, per language, at each place the
/// `test_raise` fixture raises.
struct Raised {
    language: &'static str,
    wasi: bool,
    /// Parts of the load error when `init` raises.
    init: &'static [&'static str],
    /// The start of the record's error, and a part of its stack.
    record: (&'static str, &'static str),
    /// Parts of the call's error when the whole call fails.
    call: &'static [&'static str],
}

/// An author's exception reaches the user with their message and stack:
/// from `init` as the load error, from one record as that record's error,
/// from a whole call as the call's error; the host keeps going.
fn raises(r: &Raised) -> TestResult {
    let engine = engine();
    let plugin = load(&engine, r.language, "test_raise", r.wasi);
    let settings =
        |raise_in: &'static str| InstanceOptions::with_settings([("raise_in", raise_in)]);

    let err = plugin
        .instantiate(settings("init"))
        .err()
        .ok_or("init should fail")?
        .to_string();
    for part in r.init {
        assert!(err.contains(part), "{}: `{part}` in: {err}", r.language);
    }

    let mut instance = plugin.instantiate(settings("record"))?;
    let outcome = instance
        .process(super::batch(&["ok", "please raise", "ok"]))
        .map_err(|f| f.error)?;
    assert_eq!((outcome.records.len(), outcome.failed.len()), (2, 1));
    let error = &outcome.failed[0].error;
    assert!(
        error.starts_with(r.record.0) && error.contains(r.record.1),
        "{}: {error}",
        r.language
    );

    let mut instance = plugin.instantiate(settings("call"))?;
    let failure = instance
        .process(super::batch(&["a", "b"]))
        .err()
        .ok_or("the call should fail")?;
    let message = failure.error.to_string();
    for part in r.call {
        assert!(
            message.contains(part),
            "{}: `{part}` in: {message}",
            r.language
        );
    }
    // The instance is replaced: the next call runs (and fails the same way).
    assert!(instance.process(super::batch(&["c"])).is_err());
    Ok(())
}

#[test]
fn python_exceptions_carry_the_authors_message_and_traceback() -> TestResult {
    raises(&Raised {
        language: "python",
        wasi: true,
        init: &[
            "RuntimeError: raised in init as configured",
            "Traceback",
            "app.py",
            "explode",
        ],
        record: ("RuntimeError: raised in record as configured", "in explode"),
        call: &[
            "Fatal: the whole call fails as configured",
            "Traceback",
            "in keep",
        ],
    })
}

#[test]
fn javascript_errors_carry_the_authors_message_and_stack() -> TestResult {
    raises(&Raised {
        language: "js",
        wasi: false,
        init: &[
            "Error: raised in init as configured",
            "at explode (test-raise/app.js:",
            "at init (test-raise/app.js:",
        ],
        record: (
            "Error: raised in record as configured",
            "at keep (test-raise/app.js:",
        ),
        call: &[
            "Fatal: the whole call fails as configured",
            "at keep (test-raise/app.js:",
        ],
    })
}

/// A window: its key and start.
type WindowId = (Vec<u8>, i64);

/// Each window's outputs, and the offsets of the records that failed.
type Windows = (BTreeMap<WindowId, Vec<serde_json::Value>>, BTreeSet<u64>);

/// What an aggregator made of `input`, in keyed one-minute windows assigned
/// as the host assigns them: each window's outputs (values as JSON) after
/// every batch was folded in, and the offsets of the records that failed.
fn windows(plugin: &Plugin, input: &[Record]) -> Result<Windows, Box<dyn std::error::Error>> {
    let mut instance = plugin.instantiate(InstanceOptions::default())?;
    let mut windows = TumblingWindows::new(60_000);
    let mut failed = BTreeSet::new();
    for (n, chunk) in input.chunks(BATCH).enumerate() {
        let (_, acc) = windows.fold(&mut instance, &Batch::new("gen", "0", chunk.to_vec()))?;
        failed.extend(acc.errors.iter().map(|(i, _)| (n * BATCH + i) as u64));
    }
    let closed = windows.closed();
    let mut outputs: BTreeMap<WindowId, Vec<serde_json::Value>> = BTreeMap::new();
    for out in instance.emit(&closed)? {
        let w = &closed[out.window];
        outputs
            .entry((w.key.clone(), w.start))
            .or_default()
            .push(serde_json::from_slice(&out.value)?);
    }
    Ok((outputs, failed))
}

#[test]
fn the_vehicle_window_aggregates_the_same_in_every_language() -> TestResult {
    // serde reads a JSON array of three numbers as the Rust twin's
    // three-field reading; the other languages refuse it. Leave arrays out.
    let input: Vec<Record> = records(Workload::Telemetry)
        .into_iter()
        .filter(|r| !r.value.starts_with(b"["))
        .collect();
    let engine = engine();
    let mut reference = None;
    for (language, wasi) in AGGREGATORS {
        let (outputs, failed) = windows(&load(&engine, language, "vehicle_window", wasi), &input)?;
        assert!(outputs.len() > 10, "{language}: {} windows", outputs.len());
        assert!(!failed.is_empty(), "{language}: the malformed records fail");
        match &reference {
            None => reference = Some((language, outputs, failed)),
            Some((first, want, want_failed)) => {
                assert_eq!(
                    &failed, want_failed,
                    "failed records: {language} against {first}"
                );
                for (window, values) in want {
                    assert_eq!(
                        outputs.get(window),
                        Some(values),
                        "window {window:?}: {language} against {first}"
                    );
                }
                assert_eq!(outputs.len(), want.len());
            }
        }
    }
    Ok(())
}

/// The C amount scorer scores as the same rule written natively: `amount /
/// threshold` up to 1, labelled `large` from the threshold on; a record
/// without a numeric `amount` fails.
#[test]
fn the_c_scorer_scores_as_its_rule_written_natively() -> TestResult {
    let input = records(Workload::Transactions);
    let threshold = 400.0;
    let plugin = load(&engine(), "c", "amount_scorer", false);
    let options = InstanceOptions::with_settings([("threshold", "400")]);
    let mut instance = plugin.instantiate(options)?;
    for chunk in input.chunks(BATCH) {
        let outcome = instance
            .process(Batch::new("gen", "0", chunk.to_vec()))
            .map_err(|f| f.error)?;
        let failed: BTreeSet<u64> = outcome.failed.iter().map(|f| offset(&f.record)).collect();
        let mut scored = outcome.records.iter();
        for r in chunk {
            let amount = serde_json::from_slice::<serde_json::Value>(&r.value)
                .ok()
                .and_then(|v| v.get("amount").and_then(serde_json::Value::as_f64));
            match amount {
                None => assert!(failed.contains(&offset(r)), "record {}", offset(r)),
                Some(amount) => {
                    let got = scored.next().ok_or("a scored record is missing")?;
                    assert_eq!(offset(got), offset(r));
                    assert_eq!(got.score, Some((amount / threshold).min(1.0)));
                    let large = amount >= threshold;
                    assert_eq!(
                        got.labels,
                        if large {
                            vec!["large".to_string()]
                        } else {
                            vec![]
                        }
                    );
                }
            }
        }
    }
    Ok(())
}
