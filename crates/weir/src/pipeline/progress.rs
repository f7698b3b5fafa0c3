//! The bookkeeping of a run: counts, batches in flight, and checkpoints
//! persisted together with the plugins' state.

use crate::state::{Checkpoint, StateHandle, StateStore};

use super::PipelineError;
use super::lanes::Done;
use super::run::RunSummary;
use super::tickets::{Advance, Tickets};

/// The bookkeeping of one run: counts, batches in flight, checkpoints.
pub(crate) struct RunState {
    pub(crate) name: String,
    pub(crate) source_name: String,
    pub(crate) store: StateStore,
    pub(crate) state_handles: Vec<StateHandle>,
    pub(crate) summary: RunSummary,
    pub(crate) tickets: Tickets,
    /// The first lane failure; the run stops reading when it is set.
    pub(crate) error: Option<PipelineError>,
}

impl RunState {
    /// Takes a lane's report; persists the checkpoint when its partition's
    /// can move, and returns it for the source.
    pub(crate) fn finish(&mut self, done: Done) -> Result<Option<Advance>, PipelineError> {
        match done.result {
            Ok(c) => {
                let s = &mut self.summary;
                s.dropped += c.dropped;
                s.records_out += c.records_out;
                s.scored += c.scored;
                s.failed += c.failed;
                for (sink, n) in c.written {
                    *s.written.entry(sink).or_default() += n;
                }
                match self.tickets.finish(&done.partition, done.seq, done.tags) {
                    Some(advance) => {
                        self.persist(&advance)?;
                        Ok(Some(advance))
                    }
                    None => Ok(None),
                }
            }
            Err(e) => {
                // The batch never completes: the checkpoint stays before it.
                tracing::error!(pipeline = %self.name, partition = %done.partition, "stopping: {e}");
                if self.error.is_none() {
                    self.error = Some(e);
                }
                Ok(None)
            }
        }
    }

    /// Persists the plugins' state changes of the retired batches and the
    /// new position in one transaction.
    pub(crate) fn persist(&mut self, advance: &Advance) -> Result<(), PipelineError> {
        let checkpoint = Checkpoint {
            source: self.source_name.clone(),
            partition: advance.partition.to_string(),
            position: advance.position.clone(),
        };
        self.store
            .commit(&self.state_handles, &advance.tags, &[checkpoint])
            .map_err(|e| PipelineError::State(e.to_string()))
    }
}
