//! The bookkeeping of a run: counts, batches in flight, and checkpoints
//! persisted together with the plugins' state.

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// Takes a lane's report; persists the checkpoint when its partition's
    /// can move.
    pub(crate) fn finish(&mut self, done: Done) -> Result<(), PipelineError> {
        match done.result {
            Ok(()) => match self.tickets.finish(&done.partition, done.seq, done.tags) {
                Some(advance) => self.persist(&advance),
                None => Ok(()),
            },
            Err(e) => {
                // The batch never completes: the checkpoint stays before it.
                tracing::error!(pipeline = %self.name, partition = %done.partition, "stopping: {e}");
                if self.error.is_none() {
                    self.error = Some(e);
                }
                Ok(())
            }
        }
    }

    /// Persists the plugins' state changes of the retired batches and the
    /// new position in one transaction, then hands the position to the
    /// source.
    pub(crate) fn persist(&mut self, advance: &Advance) -> Result<(), PipelineError> {
        let checkpoint = Checkpoint {
            source: self.source_name.clone(),
            partition: advance.partition.to_string(),
            position: advance.position.clone(),
        };
        self.store
            .commit(&self.state_handles, &advance.tags, &[checkpoint])
            .map_err(|e| PipelineError::State(e.to_string()))?;
        self.acks
            .acknowledge(advance.partition.clone(), advance.position.clone());
        Ok(())
    }
}
