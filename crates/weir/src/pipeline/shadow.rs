//! Shadow mode: a candidate plugin version runs on the same batches as the
//! serving one, emits nothing, and is compared with it record by record.
//!
//! The candidate runs after the serving version's call succeeded, on the
//! same worker, with its own instance and its own in-memory state (its
//! state writes never reach the stage's state, so a stateful candidate
//! starts from empty state). Its traps and errors are counted and never
//! affect the stream. A stage's processing costs about twice as much
//! while a candidate shadows it. Aggregators cannot be shadowed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use serde_json::Value;

use crate::check::{matches, per_record};
use crate::envelope::bytes_json;
use crate::plugin::{InstanceOptions, Outcome, Plugin, PluginError, PluginInstance};
use crate::record::{Batch, Record};
use crate::state::{StateStore, next_tag};

use super::counters::StageCounters;
use super::ops::cut;

/// How many differences a shadow keeps as samples.
pub const SHADOW_SAMPLES: usize = 20;

/// The longest text of a sample's input or outcomes kept.
const SAMPLE_BYTES: usize = 2048;

/// A record on which the candidate and the serving version differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowSample {
    /// The input record's value (JSON when it is JSON, else text or
    /// base16), cut to 2 KiB.
    pub input: Value,
    /// What the serving version made of it, as [`crate::check`] writes
    /// outcomes.
    pub serving: Value,
    /// What the candidate made of it.
    pub candidate: Value,
}

/// How a shadow candidate compares with the serving version so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowReport {
    /// The candidate's name.
    pub plugin: String,
    /// The candidate's digest.
    pub digest: String,
    /// When it started shadowing.
    pub since: SystemTime,
    /// Records both ran on.
    pub records: u64,
    /// Records whose outcomes differ.
    pub differing: u64,
    /// Calls of the candidate that failed as a whole (their records count
    /// as differing).
    pub failed_calls: u64,
    /// The first [`SHADOW_SAMPLES`] differences.
    pub samples: Vec<ShadowSample>,
}

/// A candidate shadowing a stage.
pub(crate) struct Shadow {
    pub(crate) plugin: Plugin,
    options: InstanceOptions,
    since: SystemTime,
    idle: Mutex<Vec<PluginInstance>>,
    records: AtomicU64,
    differing: AtomicU64,
    failed_calls: AtomicU64,
    samples: Mutex<Vec<ShadowSample>>,
}

fn text(v: Value) -> Value {
    let s = v.to_string();
    if s.len() <= SAMPLE_BYTES {
        v
    } else {
        Value::String(cut(&s, SAMPLE_BYTES))
    }
}

impl Shadow {
    /// Starts `plugin` as a candidate with the stage's settings and limits
    /// and a state of its own: fails if it does not start.
    pub(crate) fn start(
        plugin: Plugin,
        stage: &str,
        options: &InstanceOptions,
    ) -> Result<Shadow, PluginError> {
        let options = InstanceOptions {
            state: Some(StateStore::in_memory().namespace(stage)),
            metrics: None,
            ..options.clone()
        };
        let first = plugin.instantiate(options.clone())?;
        Ok(Shadow {
            plugin,
            options,
            since: SystemTime::now(),
            idle: Mutex::new(vec![first]),
            records: AtomicU64::new(0),
            differing: AtomicU64::new(0),
            failed_calls: AtomicU64::new(0),
            samples: Mutex::default(),
        })
    }

    /// Runs the candidate on `batch` and compares with the serving
    /// version's `serving` outcome.
    pub(crate) fn compare(&self, batch: Batch, serving: &Outcome, counters: &StageCounters) {
        let kind = self.plugin.kind();
        let inputs: Vec<Record> = batch.records.clone();
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let instance = match pooled {
            Some(i) => Ok(i),
            None => self.plugin.instantiate(self.options.clone()),
        };
        let (result, instance) = match instance {
            Ok(mut i) => {
                // Nobody else commits the candidate's state: each call's
                // writes are committed when it succeeds and dropped when it
                // fails, under a tag of its own (lanes call concurrently).
                let tag = next_tag();
                i.set_write_tag(tag);
                let result = i.process(batch).map_err(|f| f.error.to_string());
                if let Some(state) = &self.options.state {
                    state.settle_call(tag, result.is_ok());
                }
                (result, Some(i))
            }
            Err(e) => (Err(e.to_string()), None),
        };
        if let Some(i) = instance {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(i);
        }
        if result.is_err() {
            self.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
        let theirs = per_record(kind, &inputs, result.as_ref().map_err(String::as_str));
        let ours = per_record(kind, &inputs, Ok(serving));
        self.records
            .fetch_add(inputs.len() as u64, Ordering::Relaxed);
        counters.shadow_records.inc_by(inputs.len() as u64);
        for ((input, s), c) in inputs.iter().zip(ours).zip(theirs) {
            if matches(&s, &c) {
                continue;
            }
            self.differing.fetch_add(1, Ordering::Relaxed);
            counters.shadow_differing.inc();
            let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
            if samples.len() < SHADOW_SAMPLES {
                samples.push(ShadowSample {
                    input: text(bytes_json(&input.value)),
                    serving: text(s),
                    candidate: text(c),
                });
            }
        }
    }

    pub(crate) fn report(&self) -> ShadowReport {
        ShadowReport {
            plugin: self.plugin.name().to_string(),
            digest: self.plugin.info().digest.clone(),
            since: self.since,
            records: self.records.load(Ordering::Relaxed),
            differing: self.differing.load(Ordering::Relaxed),
            failed_calls: self.failed_calls.load(Ordering::Relaxed),
            samples: self
                .samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}
