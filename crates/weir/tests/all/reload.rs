//! Reloading a stage's plugin while records flow: no record lost or
//! processed twice, every output made by exactly one version, versions
//! that do not start never served, and rollback.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use weir::check::{Check, Fields};
use weir::connectors::generator::{Generator, Workload, generator};
use weir::metrics::{Metrics, names};
use weir::pipeline::{Pipeline, ReloadError, Stage, VERSION_HEADER, WatchOptions};
use weir::plugin::{Grants, digest_of};
use weir::{Acks, Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

use super::TestResult;
use super::languages::{engine, load};

pub(super) const BATCH: u64 = 500;

/// Card transactions, a batch at a time, with a short pause between
/// batches so the reloads land while records flow; with `until`, the last
/// batch waits for it to be set.
pub(super) struct Paced {
    pub(super) generator: Box<dyn Generator>,
    pub(super) sent: u64,
    pub(super) batches: u64,
    pub(super) until: Option<Arc<AtomicBool>>,
    /// Every this many records, one that is not JSON (0: none).
    pub(super) bad_every: u64,
    /// Ends the stream early once set.
    pub(super) stop: Option<Arc<AtomicBool>>,
}

impl Paced {
    /// `batches` batches of transactions from `seed`.
    pub(super) fn new(seed: u64, batches: u64) -> Self {
        Paced {
            generator: generator(Workload::Transactions, seed),
            sent: 0,
            batches,
            until: None,
            bad_every: 0,
            stop: None,
        }
    }

    /// Ends the stream once `stop` is set.
    pub(super) fn stop_when(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }
}

#[async_trait]
impl Source for Paced {
    async fn open(&mut self, _acks: Acks) -> Result<(), SourceError> {
        Ok(())
    }

    async fn next_batch(&mut self, _limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            return Ok(None);
        }
        if self.sent == self.batches {
            while let Some(until) = &self.until {
                if until.load(Ordering::Relaxed) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        let records = (0..BATCH)
            .map(|i| {
                let offset = self.sent * BATCH + i;
                let value = self.generator.next_record().value;
                let bad = self.bad_every > 0 && offset % self.bad_every == self.bad_every - 1;
                let value = if bad { b"not json".to_vec() } else { value };
                Record::new(value, Position::Offset(offset), 0)
            })
            .collect();
        self.sent += 1;
        Ok(Some(Batch::new("txns", "0", records)))
    }

    fn describe(&self) -> String {
        "paced transactions".into()
    }
}

/// Keeps `(offset, version headers)` of every record written.
#[derive(Clone, Default)]
pub(super) struct Collect(pub(super) Arc<Mutex<Vec<Written>>>);

/// A record's offset and the versions its headers name.
pub(super) type Written = (u64, Vec<String>);

#[async_trait]
impl Sink for Collect {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let mut seen = self.0.lock().map_err(|e| SinkError::new("collect", e))?;
        seen.extend(records.iter().map(|r| {
            let offset = match r.position {
                Position::Offset(o) => o,
                _ => u64::MAX,
            };
            let versions = r
                .headers
                .iter()
                .filter(|h| &*h.name == VERSION_HEADER)
                .map(|h| String::from_utf8_lossy(&h.value).into_owned())
                .collect();
            (offset, versions)
        }));
        Ok(())
    }

    fn describe(&self) -> String {
        "collect".into()
    }
}

/// Sample transactions and the outcomes of the amount filter at
/// `min_amount = 100`: the stage's check.
fn check(dir: &Path) -> Result<Check, Box<dyn std::error::Error>> {
    let input = dir.join("samples.jsonl");
    let expect = dir.join("expected.jsonl");
    std::fs::write(
        &input,
        "{\"amount\": 5}\n{\"amount\": 500}\n{\"amount\": 100}\n{\"amount\": 100.5}\n",
    )?;
    std::fs::write(
        &expect,
        [
            r#"{"line": 1, "outcome": "dropped"}"#,
            r#"{"line": 2, "outcome": "kept"}"#,
            r#"{"line": 3, "outcome": "dropped"}"#,
            r#"{"line": 4, "outcome": "kept"}"#,
        ]
        .join("\n"),
    )?;
    Ok(Check::load(&input, &expect, &Fields::default())?)
}

/// Replaces `path` the way a deployment does: written beside it, then
/// renamed over it.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let next = path.with_extension("wasm.next");
    std::fs::write(&next, bytes)?;
    std::fs::rename(&next, path)
}

#[tokio::test(flavor = "multi_thread")]
async fn replacing_the_plugin_file_under_load_loses_nothing_and_serves_only_good_versions()
-> TestResult {
    let dir = tempfile::tempdir()?;
    let engine = engine();
    // Two versions of the same filter (Rust and C twins: same decisions,
    // different digests), a file that is no component, and a filter that
    // keeps everything, which fails the stage's check.
    let read = |language, name| std::fs::read(weir_test_support::plugin_in(language, name));
    let (rust, c) = (read("rust", "amount_filter")?, read("c", "amount_filter")?);
    let keeps_all = read("rust", "test_bare")?;
    let broken = rust.get(..rust.len() / 2).unwrap_or_default().to_vec();
    let good = [digest_of(&rust), digest_of(&c)];
    let path = dir.path().join("filter.wasm");
    std::fs::write(&path, &rust)?;
    let plugin = engine.load_file(&path, Grants::none())?;

    let metrics = Metrics::new();
    let (out, failed) = (Collect::default(), Collect::default());
    let reloads_done = Arc::new(AtomicBool::new(false));
    let pipeline = Pipeline::builder("reload")
        .source(Paced {
            until: Some(reloads_done.clone()),
            ..Paced::new(7, 2_000)
        })
        .stage(
            Stage::new("filter", plugin)
                .setting("min_amount", "100")
                .check(check(dir.path())?)
                .source_file(&path)
                .watch(true)
                .tag_version(true),
        )
        .watch_options(
            WatchOptions::default()
                .with_debounce(Duration::from_millis(20))
                .with_poll_interval(Duration::from_millis(100)),
        )
        .sink("out", out.clone())
        .sink("failed", failed.clone())
        .on_failure("failed")
        .metrics(metrics.clone())
        .build()?;
    let control = pipeline.control();
    let labels = [("pipeline", "reload"), ("stage", "filter")];
    let replacing = {
        let metrics = metrics.clone();
        let path = path.clone();
        let control = control.clone();
        let reloads_done = reloads_done.clone();
        std::thread::spawn(move || -> Result<(), String> {
            let handled = || {
                metrics.counter_value(names::STAGE_RELOADS, &labels)
                    + metrics.counter_value(names::STAGE_RELOADS_REFUSED, &labels)
            };
            let mut twins = [&c, &rust].into_iter().cycle();
            for n in 0..20u64 {
                let bytes = match n {
                    6 => &broken,
                    13 => &keeps_all,
                    _ => twins.next().ok_or("no version")?,
                };
                replace(&path, bytes).map_err(|e| e.to_string())?;
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                while handled() < n + 1 {
                    if std::time::Instant::now() > deadline {
                        reloads_done.store(true, Ordering::Relaxed);
                        return Err(format!(
                            "replacement {n} was not picked up: {:?} {:?}",
                            control.stages(),
                            control.refusals("filter")
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            reloads_done.store(true, Ordering::Relaxed);
            Ok(())
        })
    };
    let run = pipeline.run(std::future::pending());
    let summary = tokio::time::timeout(Duration::from_secs(300), run);
    let replaced = tokio::task::spawn_blocking(move || replacing.join());
    let (summary, replaced) = tokio::join!(summary, replaced);
    replaced?.map_err(|_| "the replacing thread panicked")??;
    let summary = summary.map_err(|_| "the pipeline did not finish")??;

    let total = 2_000 * BATCH;
    assert_eq!(summary.records_in, total);
    let out = out.0.lock().map_err(|e| e.to_string())?.clone();
    let failed = failed.0.lock().map_err(|e| e.to_string())?.clone();
    assert!(failed.is_empty(), "no record failed: {}", failed.len());
    // Every kept record once, and every kept record is one the amount
    // filter keeps (the version that keeps everything never served).
    let mut seen = BTreeSet::new();
    for (offset, _) in &out {
        assert!(seen.insert(*offset), "record {offset} twice");
    }
    let expected = kept_offsets(7, total);
    assert_eq!(seen, expected, "exactly the records the filter keeps");
    // Every output names exactly one version, a good one.
    let mut per_version: BTreeMap<String, usize> = BTreeMap::new();
    for (offset, versions) in &out {
        assert_eq!(versions.len(), 1, "record {offset}: {versions:?}");
        assert!(good.contains(&versions[0]), "record {offset}: {versions:?}");
        *per_version.entry(versions[0].clone()).or_default() += 1;
    }
    assert_eq!(
        per_version.len(),
        2,
        "both versions served: {per_version:?}"
    );

    assert_eq!(metrics.counter_value(names::STAGE_RELOADS, &labels), 18);
    assert_eq!(
        metrics.counter_value(names::STAGE_RELOADS_REFUSED, &labels),
        2
    );
    let refusals = control.refusals("filter")?;
    assert_eq!(refusals.len(), 2);
    assert!(
        refusals[0].reason.contains("cannot load"),
        "{:?}",
        refusals[0]
    );
    assert!(refusals[1].reason.contains("check"), "{:?}", refusals[1]);
    let status = &control.stages()[0];
    // 18 swaps after the first version, alternating from C: Rust serves.
    assert_eq!((status.version, &status.digest), (19, &good[0]));
    assert_eq!(status.previous_digest.as_ref(), Some(&good[1]));
    assert_eq!(status.source.as_deref(), Some(path.as_path()));
    Ok(())
}

/// The offsets of the first `total` transactions generated from `seed`
/// whose amount is above 100.
fn kept_offsets(seed: u64, total: u64) -> BTreeSet<u64> {
    let mut g = generator(Workload::Transactions, seed);
    (0..total)
        .filter(|_| {
            let r = g.next_record();
            let v: serde_json::Value = serde_json::from_slice(&r.value).unwrap_or_default();
            v["amount"].as_f64().is_some_and(|a| a > 100.0)
        })
        .collect()
}

#[test]
fn rollback_returns_to_the_version_before() -> TestResult {
    let engine = engine();
    let rust = load(&engine, "rust", "amount_filter", false);
    let c = load(&engine, "c", "amount_filter", false);
    let metrics = Metrics::new();
    let pipeline = Pipeline::builder("rollback")
        .source(Paced::new(1, 0))
        .stage(Stage::new("filter", rust.clone()).setting("min_amount", "100"))
        .sink("out", Collect::default())
        .sink("failed", Collect::default())
        .on_failure("failed")
        .metrics(metrics.clone())
        .build()?;
    // The info series names the version served, and only that one.
    let served = |version: &str, digest: &str| {
        let labels = [
            ("pipeline", "rollback"),
            ("stage", "filter"),
            ("version", version),
            ("digest", digest),
        ];
        metrics.gauge_values(names::STAGE_PLUGIN_INFO, &labels)
    };
    assert_eq!(served("1", &rust.info().digest), [1.0]);
    let control = pipeline.control();
    assert!(matches!(
        control.rollback("filter"),
        Err(ReloadError::NoPrevious(_))
    ));
    assert!(matches!(
        control.reload("nope", c.clone()),
        Err(ReloadError::UnknownStage(_))
    ));
    let scorer = load(&engine, "rust", "fraud_scorer", false);
    assert!(matches!(
        control.reload("filter", scorer),
        Err(ReloadError::WrongKind { .. })
    ));
    // Go's filter calls WASI while starting, which this stage does not grant.
    let go = load(&engine, "go", "amount_filter", false);
    assert!(matches!(
        control.reload("filter", go),
        Err(ReloadError::Start { .. })
    ));
    assert_eq!(control.refusals("filter")?.len(), 2);
    let reloaded = control.reload("filter", c.clone())?;
    assert_eq!((reloaded.version, &reloaded.digest), (2, &c.info().digest));
    assert_eq!(served("2", &c.info().digest), [1.0]);
    let back = control.rollback("filter")?;
    assert_eq!((back.version, &back.digest), (3, &rust.info().digest));
    assert_eq!(served("3", &rust.info().digest), [1.0]);
    assert_eq!(
        metrics.gauge_values(names::STAGE_PLUGIN_INFO, &[("stage", "filter")]),
        [1.0],
        "one version served: {}",
        metrics.render()
    );
    assert_eq!(back.previous_digest.as_ref(), Some(&c.info().digest));
    // A second rollback undoes the first.
    assert_eq!(control.rollback("filter")?.digest, c.info().digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shadow_candidate_reports_exactly_the_records_it_decides_differently() -> TestResult {
    let engine = engine();
    let serving = load(&engine, "rust", "amount_filter", false);
    // Keeps every record: differs from the amount filter exactly on the
    // records it drops.
    let candidate = load(&engine, "rust", "test_bare", false);
    let out = Collect::default();
    let metrics = Metrics::new();
    let batches = 40;
    let pipeline = Pipeline::builder("shadow")
        .source(Paced::new(3, batches))
        .stage(Stage::new("filter", serving).setting("min_amount", "100"))
        .sink("out", out.clone())
        .sink("failed", Collect::default())
        .on_failure("failed")
        .metrics(metrics.clone())
        .build()?;
    let control = pipeline.control();
    assert!(matches!(
        control.promote("filter"),
        Err(ReloadError::NoShadow(_))
    ));
    control.shadow("filter", candidate.clone())?;
    let summary = tokio::time::timeout(
        Duration::from_secs(120),
        pipeline.run(std::future::pending()),
    )
    .await
    .map_err(|_| "the pipeline did not finish")??;
    let total = batches * BATCH;
    assert_eq!(summary.records_in, total);
    // The stream is the serving version's alone.
    let kept = kept_offsets(3, total);
    let written: BTreeSet<u64> = out
        .0
        .lock()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|(o, _)| *o)
        .collect();
    assert_eq!(written, kept);

    let report = control.shadow_report("filter")?.ok_or("no shadow report")?;
    assert_eq!(report.records, total);
    assert_eq!(report.differing, total - kept.len() as u64);
    assert_eq!(report.failed_calls, 0);
    assert_eq!(report.samples.len(), weir::pipeline::SHADOW_SAMPLES);
    for sample in &report.samples {
        assert_eq!(sample.serving["outcome"], "dropped", "{sample:?}");
        assert_eq!(sample.candidate["outcome"], "kept", "{sample:?}");
        let amount = sample.input["amount"].as_f64().ok_or("no amount")?;
        assert!(amount <= 100.0, "{sample:?}");
    }
    let labels = [("pipeline", "shadow"), ("stage", "filter")];
    assert_eq!(
        metrics.counter_value(names::STAGE_SHADOW_RECORDS, &labels),
        total
    );
    assert_eq!(
        metrics.counter_value(names::STAGE_SHADOW_DIFFERING, &labels),
        report.differing
    );
    // Promoting swaps the candidate in and ends the shadowing.
    let promoted = control.promote("filter")?;
    assert_eq!(promoted.digest, candidate.info().digest);
    assert!(control.shadow_report("filter")?.is_none());
    // Aggregators cannot be shadowed; other kinds are refused.
    let scorer = load(&engine, "rust", "fraud_scorer", false);
    assert!(matches!(
        control.shadow("filter", scorer),
        Err(ReloadError::WrongKind { .. })
    ));
    Ok(())
}
