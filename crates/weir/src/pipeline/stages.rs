//! The chain of plugin stages a batch runs through, with retries and
//! bisection of failed calls.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::plugin::{CallFailure, InstanceOptions, Outcome, Plugin, PluginError};
use crate::record::{Batch, Bytes, Header, Record};
use crate::state::{StateHandle, next_tag};

use super::counters::StageCounters;
use super::ops::{Ops, RecentError};
use super::reload::Reloading;
use super::retry::RetryPolicy;
use super::sample::Sample;
use super::shadow::Shadow;
use super::version::{StageVersion, Versions};
use super::window::Windows;
use crate::record::DeadLetter;

/// The header that names, on each record a stage emits, the digest of the
/// plugin version that made it (with [`Stage::tag_version`]).
///
/// [`Stage::tag_version`]: super::Stage::tag_version
pub const VERSION_HEADER: &str = "weir-plugin-digest";

/// One stage: its plugin versions and, for aggregators, the window
/// operator (whose open windows carry over from version to version).
pub(crate) struct StageRuntime {
    pub(crate) name: String,
    pub(super) versions: Versions,
    pub(super) options: InstanceOptions,
    windows: Option<Windows>,
    pub(super) counters: StageCounters,
    /// Whether outputs carry [`VERSION_HEADER`].
    tag_version: bool,
    /// How reloads are checked and where they come from.
    pub(super) reloading: Reloading,
    /// A candidate running beside the serving version, if any.
    pub(super) shadow: Mutex<Option<Arc<Shadow>>>,
    /// Recent records, to warm a new version with.
    pub(super) sample: Sample,
}

impl StageRuntime {
    /// Creates the stage and one instance, so `init` errors surface at start.
    pub(crate) fn new(
        name: String,
        plugin: Plugin,
        options: InstanceOptions,
        windows: Option<Windows>,
        counters: StageCounters,
    ) -> Result<Self, PluginError> {
        let versions = Versions::new(plugin, &options)?;
        let v = versions.current();
        counters
            .plugin_info
            .show(v.plugin.name(), v.number, &v.plugin.info().digest);
        Ok(StageRuntime {
            name,
            versions,
            options,
            windows,
            counters,
            tag_version: false,
            reloading: Reloading::default(),
            shadow: Mutex::default(),
            sample: Sample::default(),
        })
    }

    /// Outputs carry the digest of the version that made them.
    pub(crate) fn with_version_tags(mut self, on: bool) -> Self {
        self.tag_version = on;
        self
    }

    /// The serving version.
    pub(crate) fn current(&self) -> Arc<StageVersion> {
        self.versions.current()
    }

    /// The plugin a rollback returns to.
    pub(crate) fn previous(&self) -> Option<Plugin> {
        self.versions.previous()
    }

    /// With how reloads are checked and where the plugin came from.
    pub(crate) fn with_reloading(mut self, reloading: Reloading) -> Self {
        self.reloading = reloading;
        self
    }

    /// The stage's persistent state: the plugin's and its windows'.
    pub(crate) fn state_handles(&self) -> impl Iterator<Item = &StateHandle> {
        self.options
            .state
            .iter()
            .chain(self.windows.as_ref().map(Windows::state))
    }

    /// One call on `batch`, with an idle instance of the serving version,
    /// which it returns too; its state writes are tagged `tag`. Windows
    /// that fail to emit are retried per `policy`.
    fn call(
        &self,
        batch: Batch,
        tag: u64,
        policy: &RetryPolicy,
    ) -> (Arc<StageVersion>, Result<Outcome, Box<CallFailure>>) {
        let version = self.current();
        tracing::Span::current().record("version", version.number);
        let shadow = self
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let copy = shadow.as_ref().map(|_| batch.clone());
        self.sample.offer(&batch);
        let mut instance = match version.take(&self.options) {
            Ok(i) => i,
            Err(error) => return (version, Err(Box::new(CallFailure { error, batch }))),
        };
        instance.set_write_tag(tag);
        let result = match &self.windows {
            Some(w) => w.process(&mut instance, batch, tag, policy),
            None => instance.process(batch),
        };
        version.give_back(instance);
        if let (Some(shadow), Some(copy), Ok(outcome)) = (shadow, copy, &result) {
            shadow.compare(copy, outcome, &self.counters);
        }
        (version, result)
    }
}

/// What the chain made of a batch.
#[derive(Debug, Default)]
pub(crate) struct ChainOutput {
    pub(crate) records: Vec<Record>,
    pub(crate) failed: Vec<DeadLetter>,
    /// State-write tags of the successful calls, committed with the batch.
    pub(crate) tags: Vec<u64>,
}

/// The ordered stages of a pipeline.
pub(crate) struct StageChain {
    pub(crate) stages: Vec<StageRuntime>,
    policy: RetryPolicy,
    /// Pause state and recent errors, shared with delivery and control.
    pub(crate) ops: Arc<Ops>,
}

impl StageChain {
    pub(crate) fn new(stages: Vec<StageRuntime>, policy: RetryPolicy) -> Self {
        StageChain {
            stages,
            policy,
            ops: Arc::default(),
        }
    }

    /// Remembers an error of `version` in `stage` for the admin API.
    fn remember(
        &self,
        stage: &StageRuntime,
        version: &StageVersion,
        partition: &str,
        position: Option<&crate::record::Position>,
        error: &str,
    ) {
        self.ops.error(RecentError {
            at: std::time::SystemTime::now(),
            stage: stage.name.clone(),
            plugin_version: version.plugin.info().digest.clone(),
            partition: partition.to_string(),
            position: position.map(ToString::to_string),
            error: error.to_string(),
        });
    }

    /// Every state handle of every stage.
    pub(crate) fn state_handles(&self) -> Vec<StateHandle> {
        self.stages
            .iter()
            .flat_map(StageRuntime::state_handles)
            .cloned()
            .collect()
    }

    /// Runs `batch` through every stage (blocking: call off the async runtime).
    pub(crate) fn run(&self, batch: Batch) -> ChainOutput {
        let Batch {
            origin,
            partition,
            records,
        } = batch;
        let mut out = ChainOutput {
            records,
            ..ChainOutput::default()
        };
        for stage in &self.stages {
            if out.records.is_empty() {
                break;
            }
            // Every log line of the stage's work (the plugin's own among
            // them) names the stage, its plugin and, once a call has taken
            // it, the version serving the call (1 for the first; see
            // `StageRuntime::call`).
            let _span = tracing::info_span!(
                "stage",
                stage = %stage.name,
                plugin = %stage.current().plugin.name(),
                version = tracing::field::Empty
            )
            .entered();
            let input = Batch {
                origin: origin.clone(),
                partition: partition.clone(),
                records: std::mem::take(&mut out.records),
            };
            out.records = self.attempt(stage, input, 0, &mut out);
        }
        out
    }

    /// Calls `stage` on `batch` until it succeeds, the retries are used up,
    /// or (with bisection) the batch is split; returns the stage's output
    /// records, in input order. `retries` were already used on these records.
    fn attempt(
        &self,
        stage: &StageRuntime,
        mut batch: Batch,
        mut retries: u32,
        out: &mut ChainOutput,
    ) -> Vec<Record> {
        let counters = &stage.counters;
        loop {
            let tag = next_tag();
            let from = (batch.origin.clone(), batch.partition.clone());
            let started = Instant::now();
            let (version, result) = stage.call(batch, tag, &self.policy);
            counters
                .call_seconds
                .observe(started.elapsed().as_secs_f64());
            let failure = match result {
                Ok(outcome) => {
                    out.tags.push(tag);
                    return self.accept(stage, &version, outcome, &from, retries + 1, out);
                }
                Err(failure) => failure,
            };
            // Nothing of a failed call may persist.
            for handle in stage.state_handles() {
                handle.rollback(tag);
            }
            counters.traps.inc();
            let CallFailure { error, batch: b } = *failure;
            batch = b;
            self.remember(stage, &version, &batch.partition, None, &error.to_string());
            let n = batch.records.len();
            if self.policy.bisect && n > 1 {
                tracing::warn!(stage = %stage.name, partition = %batch.partition, records = n, "call failed, splitting the batch: {error}");
                counters.splits.inc();
                let right = Batch {
                    origin: batch.origin.clone(),
                    partition: batch.partition.clone(),
                    records: batch.records.split_off(n / 2),
                };
                let mut records = self.attempt(stage, batch, retries, out);
                records.extend(self.attempt(stage, right, retries, out));
                return records;
            }
            if retries < self.policy.max_retries {
                retries += 1;
                let delay = self.policy.delay(retries);
                tracing::warn!(stage = %stage.name, partition = %batch.partition, records = n, retry = retries, delay_ms = delay.as_millis() as u64, "call failed, retrying: {error}");
                counters.retries.inc();
                std::thread::sleep(delay);
                continue;
            }
            tracing::error!(stage = %stage.name, partition = %batch.partition, records = n, attempts = retries + 1, "call failed, sending its records to the failure destination: {error}");
            counters.failed.inc_by(n as u64);
            let error = error.to_string();
            let Batch {
                origin,
                partition,
                records,
            } = batch;
            out.failed.extend(records.into_iter().map(|r| {
                DeadLetter::new(
                    r,
                    &origin,
                    &partition,
                    &stage.name,
                    error.clone(),
                    retries + 1,
                )
                .in_plugin(version.plugin.name(), &version.plugin.info().digest)
            }));
            return Vec::new();
        }
    }

    /// Takes a successful call's outcome: counts, and per-record failures
    /// to the failure destination.
    fn accept(
        &self,
        stage: &StageRuntime,
        version: &StageVersion,
        outcome: Outcome,
        (origin, partition): &(Arc<str>, Arc<str>),
        attempts: u32,
        out: &mut ChainOutput,
    ) -> Vec<Record> {
        let counters = &stage.counters;
        counters.records_out.inc_by(outcome.records.len() as u64);
        counters.dropped.inc_by(outcome.dropped as u64);
        counters.failed.inc_by(outcome.failed.len() as u64);
        for f in outcome.failed {
            tracing::warn!(stage = %stage.name, position = %f.record.position, "record failed: {}", f.error);
            self.remember(
                stage,
                version,
                partition,
                Some(&f.record.position),
                &f.error,
            );
            out.failed.push(
                DeadLetter::new(f.record, origin, partition, &stage.name, f.error, attempts)
                    .in_plugin(version.plugin.name(), &version.plugin.info().digest),
            );
        }
        let mut records = outcome.records;
        if stage.tag_version {
            // One name and one value for the whole batch, shared by every record.
            let name: Arc<str> = VERSION_HEADER.into();
            let digest = Bytes::from(version.plugin.info().digest.clone().into_bytes());
            for r in &mut records {
                r.headers.retain(|h| &*h.name != VERSION_HEADER);
                r.headers.push(Header {
                    name: name.clone(),
                    value: digest.clone(),
                });
            }
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{Metrics, names};
    use crate::pipeline::counters::PipelineCounters;
    use crate::plugin::{Engine, Grants};
    use crate::record::Position;
    use crate::state::StateStore;

    fn txn(card: &str, offset: u64) -> Record {
        let value = format!(
            r#"{{"txn_id":"t-{offset}","card_id":"{card}","amount":12.5,"country":"DE","ts":0}}"#
        );
        Record::new(value.into_bytes(), Position::Offset(offset), 0)
    }

    #[test]
    fn a_failed_state_read_fails_the_call_which_is_retried()
    -> Result<(), Box<dyn std::error::Error>> {
        let engine = Engine::new()?;
        let plugin = engine.load_file(
            &weir_test_support::plugin("fraud_scorer"),
            Grants::default(),
        )?;
        let store = StateStore::in_memory();
        let options = InstanceOptions {
            state: Some(store.namespace("score")),
            ..InstanceOptions::default()
        };
        let metrics = Metrics::new();
        let counters = PipelineCounters::new(&metrics, "p", [("score", false)], []);
        let stage = StageRuntime::new(
            "score".into(),
            plugin,
            options,
            None,
            counters.stages[0].clone(),
        )?;
        let policy = RetryPolicy {
            max_retries: 2,
            backoff: Duration::from_millis(1),
            bisect: false,
        };
        let chain = StageChain::new(vec![stage], policy);
        let labels = [("pipeline", "p"), ("stage", "score")];

        // One read fails: the call traps, its retry reads and scores.
        store.fail_next_reads(1);
        let out = chain.run(Batch::new("tx", "0", vec![txn("c-1", 0)]));
        assert_eq!((out.records.len(), out.failed.len()), (1, 0));
        assert!(out.records[0].score.is_some());
        assert_eq!(metrics.counter_value(names::STAGE_TRAPS, &labels), 1);
        assert_eq!(metrics.counter_value(names::STAGE_RETRIES, &labels), 1);

        // Reads keep failing: every attempt fails, and the record goes to
        // the failure destination with the store's error; it is never
        // scored as if the card had no history.
        store.fail_next_reads(10);
        let out = chain.run(Batch::new("tx", "0", vec![txn("c-2", 1)]));
        assert_eq!((out.records.len(), out.failed.len()), (0, 1));
        let letter = &out.failed[0];
        assert!(
            letter.error.contains("state read of key `card:c-2` failed")
                && letter.error.contains("injected read failure"),
            "{}",
            letter.error
        );
        assert_eq!(letter.attempts, 3);
        assert_eq!(metrics.counter_value(names::STAGE_RETRIES, &labels), 3);
        Ok(())
    }
}
