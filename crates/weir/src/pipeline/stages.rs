//! The chain of plugin stages a batch runs through.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::metrics::{Metrics, names};
use crate::plugin::{InstanceOptions, Plugin, PluginError, PluginInstance};
use crate::record::{Batch, Record};

use super::dead_letter::DeadLetter;

/// One stage: a plugin and a pool of ready instances.
pub(crate) struct Stage {
    pub(crate) name: String,
    plugin: Plugin,
    options: InstanceOptions,
    pool: Mutex<Vec<PluginInstance>>,
}

impl Stage {
    /// Creates the stage and one instance, so `init` errors surface at start.
    pub(crate) fn new(
        name: String,
        plugin: Plugin,
        options: InstanceOptions,
    ) -> Result<Self, PluginError> {
        let first = plugin.instantiate(options.clone())?;
        Ok(Stage {
            name,
            plugin,
            options,
            pool: Mutex::new(vec![first]),
        })
    }

    fn take(&self) -> Result<PluginInstance, PluginError> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match pooled {
            Some(i) => Ok(i),
            None => self.plugin.instantiate(self.options.clone()),
        }
    }

    fn give_back(&self, instance: PluginInstance) {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
    }

    /// The stage's state, if it has a persistent one.
    pub(crate) fn state(&self) -> Option<&crate::state::StateHandle> {
        self.options.state.as_ref()
    }
}

/// What the chain made of a batch.
#[derive(Debug, Default)]
pub(crate) struct ChainOutput {
    pub(crate) records: Vec<Record>,
    pub(crate) failed: Vec<DeadLetter>,
    pub(crate) dropped: usize,
}

/// The ordered stages of a pipeline.
pub(crate) struct StageChain {
    pub(crate) stages: Vec<Stage>,
    metrics: Metrics,
}

impl StageChain {
    pub(crate) fn new(stages: Vec<Stage>, metrics: Metrics) -> Self {
        StageChain { stages, metrics }
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
            let labels = [("stage", stage.name.as_str())];
            let input = Batch {
                origin: origin.clone(),
                partition: partition.clone(),
                records: std::mem::take(&mut out.records),
            };
            let mut instance = match stage.take() {
                Ok(i) => i,
                Err(error) => {
                    tracing::error!(stage = %stage.name, "cannot instantiate plugin: {error}");
                    out.failed.extend(DeadLetter::all(
                        input,
                        stage,
                        &stage.plugin,
                        &error.to_string(),
                    ));
                    continue;
                }
            };
            let started = Instant::now();
            let result = instance.process(input);
            self.metrics.observe(
                names::STAGE_CALL_SECONDS,
                &labels,
                started.elapsed().as_secs_f64(),
            );
            stage.give_back(instance);
            match result {
                Ok(outcome) => {
                    self.metrics.counter_add(
                        names::STAGE_RECORDS_OUT,
                        &labels,
                        outcome.records.len() as u64,
                    );
                    self.metrics.counter_add(
                        names::RECORDS_DROPPED,
                        &labels,
                        outcome.dropped as u64,
                    );
                    self.metrics.counter_add(
                        names::STAGE_RECORDS_FAILED,
                        &labels,
                        outcome.failed.len() as u64,
                    );
                    for f in &outcome.failed {
                        tracing::warn!(stage = %stage.name, position = %f.record.position, "record failed: {}", f.error);
                    }
                    out.dropped += outcome.dropped;
                    out.failed.extend(outcome.failed.into_iter().map(|f| {
                        DeadLetter::new(
                            f.record,
                            &origin,
                            &partition,
                            stage,
                            &stage.plugin,
                            f.error,
                            1,
                        )
                    }));
                    out.records = outcome.records;
                }
                Err(failure) => {
                    self.metrics.counter_add(names::STAGE_TRAPS, &labels, 1);
                    self.metrics.counter_add(
                        names::STAGE_RECORDS_FAILED,
                        &labels,
                        failure.batch.records.len() as u64,
                    );
                    tracing::error!(
                        stage = %stage.name,
                        partition = %failure.batch.partition,
                        records = failure.batch.records.len(),
                        "batch failed: {}", failure.error
                    );
                    out.failed.extend(DeadLetter::all(
                        failure.batch,
                        stage,
                        &stage.plugin,
                        &failure.error.to_string(),
                    ));
                }
            }
        }
        out
    }
}
