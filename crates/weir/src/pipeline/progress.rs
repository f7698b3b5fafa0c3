//! The bookkeeping of a run: counts, batches in flight, and checkpoints
//! persisted together with the plugins' state.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::source::Acks;
use crate::state::{Checkpoint, StateHandle, StateStore};

use super::PipelineError;
use super::lanes::Done;
use super::tickets::{Advance, Tickets};

/// Counts of one run, for the summary line and for tests: what the
/// pipeline's counters in its [`Metrics`](crate::metrics::Metrics) went up
/// by during the run (two pipelines running at once under one name in one
/// `Metrics` share their counters).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// Records read from the source.
    pub records_in: u64,
    /// Records skipped because no filter pattern matched them.
    pub filtered: u64,
    /// Records dropped by filter stages.
    pub dropped: u64,
    /// Records that reached the end of the stage chain.
    pub records_out: u64,
    /// Of those, records with a score (from a scorer or reward stage).
    pub scored: u64,
    /// Records sent to the failure destination.
    pub failed: u64,
    /// Records written per sink.
    pub written: BTreeMap<String, u64>,
    /// Batches processed.
    pub batches: u64,
    /// Whether the run continued after checkpoints of an earlier run.
    pub resumed: bool,
    /// Wall-clock time of the run.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// The bookkeeping of one run: counts, batches in flight, checkpoints.
pub(crate) struct RunState {
    pub(crate) name: String,
    pub(crate) source_name: String,
    pub(crate) store: StateStore,
    pub(crate) state_handles: Vec<StateHandle>,
    pub(crate) tickets: Tickets,
    /// Where persisted checkpoints go to the source.
    pub(crate) acks: Acks,
    /// The first lane failure; the run stops reading when it is set.
    pub(crate) error: Option<PipelineError>,
}

impl RunState {
    /// Takes a lane's report and every other one already waiting in
    /// `more`, and persists what they let move in one transaction: one sync
    /// of the store file for all of them (under load, batches finish while
    /// the previous commit syncs, so commits carry several).
    pub(crate) fn finish(
        &mut self,
        done: Done,
        more: &mut mpsc::UnboundedReceiver<Done>,
    ) -> Result<(), PipelineError> {
        let mut advances = Vec::new();
        self.take(done, &mut advances);
        while let Ok(done) = more.try_recv() {
            self.take(done, &mut advances);
        }
        self.persist(&advances)
    }

    /// Takes one lane's report: the advance it allows, if any.
    fn take(&mut self, done: Done, advances: &mut Vec<Advance>) {
        match done.result {
            Ok(()) => advances.extend(self.tickets.finish(&done.partition, done.seq, done.tags)),
            Err(e) => {
                // The batch never completes: the checkpoint stays before it.
                tracing::error!(pipeline = %self.name, partition = %done.partition, "stopping: {e}");
                if self.error.is_none() {
                    self.error = Some(e);
                }
            }
        }
    }

    /// Persists the plugins' state changes of the retired batches and the
    /// partitions' new positions (the last advance of each) in one
    /// transaction, then hands the positions to the source.
    pub(crate) fn persist(&mut self, advances: &[Advance]) -> Result<(), PipelineError> {
        if advances.is_empty() {
            return Ok(());
        }
        let mut last: Vec<&Advance> = Vec::new();
        for a in advances.iter().rev() {
            if !last.iter().any(|l| l.partition == a.partition) {
                last.push(a);
            }
        }
        let tags: Vec<u64> = advances
            .iter()
            .flat_map(|a| a.tags.iter().copied())
            .collect();
        let checkpoints: Vec<Checkpoint> = last
            .iter()
            .map(|a| Checkpoint {
                source: self.source_name.clone(),
                partition: a.partition.to_string(),
                position: a.position.clone(),
            })
            .collect();
        self.store
            .commit(&self.state_handles, &tags, &checkpoints)
            .map_err(|e| PipelineError::State(e.to_string()))?;
        for a in last {
            self.acks
                .acknowledge(a.partition.clone(), a.position.clone());
        }
        Ok(())
    }
}
