//! Building a pipeline from its config and running it.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::source::{Acks, Source};
use crate::state::{StateHandle, StateStore};

use super::PipelineError;
use super::admission::Room;
use super::builder::PipelineBuilder;
use super::filter::RecordFilter;
use super::intake::Intake;
use super::lanes::{Lanes, Shared};
use super::progress::{RunState, RunSummary};
use super::tickets::Tickets;

/// A pipeline ready to run: source, stages, routes and sinks. Made by a
/// [`PipelineBuilder`] ([`Pipeline::builder`]) or from a config file
/// ([`Pipeline::build`]).
pub struct Pipeline {
    pub(crate) name: String,
    pub(crate) source: Box<dyn Source>,
    pub(crate) limits: crate::source::BatchLimits,
    pub(crate) filter: Option<RecordFilter>,
    /// The source's description, which also keys its checkpoints.
    pub(crate) source_name: String,
    pub(crate) lanes: usize,
    /// `max_in_flight_mb`.
    pub(crate) max_in_flight_mb: u64,
    pub(crate) max_age_ms: Option<i64>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) store: StateStore,
    pub(crate) state_handles: Vec<StateHandle>,
    pub(crate) watch: super::WatchOptions,
    /// Samples the series of [`crate::monitor`] while the pipeline runs
    /// (none when the monitor is off).
    pub(crate) sampler: Option<super::monitoring::Sampler>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .finish()
    }
}

impl Pipeline {
    /// A builder for a pipeline called `name`: see [`PipelineBuilder`].
    pub fn builder(name: impl Into<String>) -> PipelineBuilder {
        PipelineBuilder::new(name)
    }

    /// A handle that reloads and rolls back the stages' plugins while the
    /// pipeline runs: see [`PipelineControl`](super::PipelineControl).
    pub fn control(&self) -> super::PipelineControl {
        super::PipelineControl {
            name: self.name.clone(),
            chain: self.shared.chain.clone(),
            monitor: self.sampler.as_ref().map(|s| s.monitor.clone()),
            source: self.source_name.clone(),
            sinks: self
                .shared
                .delivery
                .sinks
                .iter()
                .map(|(name, sink)| (name.clone(), sink.describe()))
                .collect(),
        }
    }

    /// Runs until the source is exhausted or `shutdown` resolves, then
    /// finishes the batches in flight, commits and closes the sinks.
    ///
    /// Each batch is processed by the stages, its outputs routed and
    /// written, its failures written to the failure destination; only then,
    /// and only once every earlier batch of its partition is done too, are
    /// the plugins' state changes for it persisted together with the new
    /// source position, and the source told.
    ///
    /// Every log line of the run is in a span `pipeline` with the field
    /// `pipeline`; the stages' lines are in a span `stage` inside it, with
    /// the fields `stage` and `plugin`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunSummary, PipelineError> {
        let span = tracing::info_span!("pipeline", pipeline = %self.name);
        self.run_in_span(shutdown).instrument(span).await
    }

    async fn run_in_span(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let Pipeline {
            name,
            mut source,
            limits,
            filter,
            source_name,
            lanes: lane_count,
            max_in_flight_mb,
            max_age_ms,
            shared,
            store,
            state_handles,
            watch,
            sampler,
        } = self;
        let checkpoints = store
            .checkpoints(&source_name)
            .map_err(|e| PipelineError::State(e.to_string()))?;
        let resumed = !checkpoints.is_empty();
        // Checkpoints reach the source on this handle as soon as they are
        // persisted, whatever the source is doing.
        let acks = Acks::new();
        source.open(acks.clone()).await?;
        for c in &checkpoints {
            tracing::info!(pipeline = %name, source = %source_name, partition = %c.partition, position = %c.position, "resuming after checkpoint");
            source.resume(&c.partition, &c.position).await?;
        }
        tracing::info!(pipeline = %name, source = %source_name, lanes = lane_count, "pipeline started");
        // Both stop with the run.
        let _watcher = super::watch::Watcher::start(&shared.chain, watch);
        let _sampling = sampler.map(super::monitoring::Sampler::start);
        let intake = Intake {
            name: name.clone(),
            filter,
            lanes: lane_count,
            max_age_ms,
            counters: shared.counters.clone(),
        };
        let counted_before = shared.counters.totals();
        let mut run = RunState {
            name,
            source_name,
            store,
            state_handles,
            tickets: Tickets::default(),
            acks,
            error: None,
        };
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut lanes = Lanes::new(shared.clone(), done_tx);
        // Batches in flight at once, over all partitions: enough for lanes
        // to have batches queued and several being written.
        let room = Room::new(
            (lane_count * 8).max(32),
            max_in_flight_mb,
            Some(shared.counters.in_flight_bytes.clone()),
        );
        tokio::pin!(shutdown);
        let ops = shared.chain.ops.clone();
        'read: loop {
            if run.error.is_some() {
                break;
            }
            if ops.is_paused() {
                tracing::info!(pipeline = %run.name, "paused: no batch is read until resumed");
                let resumed = ops.resumed();
                tokio::pin!(resumed);
                loop {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break 'read,
                        Some(done) = done_rx.recv() => run.finish(done, &mut done_rx)?,
                        () = &mut resumed => break,
                    }
                }
                tracing::info!(pipeline = %run.name, "resumed");
            }
            let batch = {
                let next = source.next_batch(&limits);
                tokio::pin!(next);
                loop {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => {
                            tracing::info!(pipeline = %run.name, "shutdown requested: finishing the batches in flight");
                            break 'read;
                        }
                        Some(done) = done_rx.recv() => {
                            run.finish(done, &mut done_rx)?;
                            if run.error.is_some() {
                                break 'read;
                            }
                        }
                        b = &mut next => break b?,
                    }
                }
            };
            let Some(batch) = batch else { break };
            if batch.records.is_empty() {
                continue;
            }
            let bytes = batch.records.iter().map(crate::Record::size).sum();
            let permit = {
                let admit = room.admit(bytes);
                tokio::pin!(admit);
                loop {
                    tokio::select! {
                        p = &mut admit => {
                            break p.map_err(|e| PipelineError::Internal(e.to_string()))?;
                        }
                        Some(done) = done_rx.recv() => run.finish(done, &mut done_rx)?,
                    }
                }
            };
            if let Some(advance) = intake.dispatch(batch, permit, &mut lanes, &mut run) {
                run.persist(std::slice::from_ref(&advance))?;
            }
        }
        // Let the lanes finish what they have, then pass on the last
        // checkpoints. Waiting for every lane worker to end also releases
        // everything they hold (the state store among it) before `run`
        // returns.
        let closing = lanes.close();
        tokio::pin!(closing);
        loop {
            tokio::select! {
                Some(done) = done_rx.recv() => run.finish(done, &mut done_rx)?,
                closed = &mut closing => {
                    while let Ok(done) = done_rx.try_recv() {
                        run.finish(done, &mut done_rx)?;
                    }
                    if let Err(e) = closed
                        && run.error.is_none()
                    {
                        run.error = Some(e);
                    }
                    break;
                }
            }
        }
        if run.tickets.pending() > 0 && run.error.is_none() {
            run.error = Some(PipelineError::Internal(format!(
                "{} batches were never finished; their checkpoints were not moved",
                run.tickets.pending()
            )));
        }
        if let Err(e) = source.close().await {
            tracing::warn!(pipeline = %run.name, "closing the source: {e}");
        }
        let closed = shared.delivery.close().await;
        if let Some(e) = run.error {
            if let Err(c) = closed {
                tracing::warn!(pipeline = %run.name, "closing the sinks after the failure: {c}");
            }
            return Err(e);
        }
        closed?;
        let summary = RunSummary {
            resumed,
            elapsed: started.elapsed(),
            ..shared.counters.totals().since(&counted_before)
        };
        if summary.resumed && summary.records_in == 0 {
            tracing::info!(pipeline = %run.name, "nothing new since the last checkpoint; to process everything again, start over (`weir run --reset` deletes the checkpoints)");
        }
        tracing::info!(
            pipeline = %run.name,
            records_in = summary.records_in,
            records_out = summary.records_out,
            failed = summary.failed,
            elapsed_ms = summary.elapsed.as_millis() as u64,
            "pipeline finished"
        );
        Ok(summary)
    }
}
