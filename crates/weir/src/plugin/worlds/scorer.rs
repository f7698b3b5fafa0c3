//! The `scorer` world: a score and labels per record.

use wasmtime::Store;

use super::{CallResult, Guest, init_call, world_exports};
use crate::plugin::bindings::scorer_plugin;
use crate::plugin::host::HostState;
use crate::plugin::marshal::{BatchBuffers, record_errors};
use crate::plugin::outcome::Decision;
use crate::record::Batch;

world_exports!(ScorerExports, ScorerGuest, scorer_plugin);

impl Guest for ScorerGuest {
    init_call!();

    fn process(
        &self,
        store: &mut Store<HostState>,
        buffers: &mut BatchBuffers,
        batch: &Batch,
    ) -> Option<CallResult<Decision>> {
        let wit = buffers.pack(&batch.origin, &batch.partition, &batch.records);
        let scores = match self.0.call_process(store, wit) {
            Ok(s) => s,
            Err(trap) => return Some(Err(trap)),
        };
        Some(Ok(decide(scores, batch.records.len())))
    }
}

fn decide(s: scorer_plugin::Scores, n: usize) -> Result<Decision, String> {
    if s.scores.len() != n {
        return Err(format!(
            "returned {} scores for {n} records",
            s.scores.len()
        ));
    }
    let labels = s
        .labels
        .into_iter()
        .map(|l| {
            let i = l.index as usize;
            if i < n {
                Ok((i, l.text))
            } else {
                Err(format!("label for record {i} of {n}"))
            }
        })
        .collect::<Result<_, String>>()?;
    Ok(Decision::Score {
        scores: s.scores,
        labels,
        errors: record_errors(s.errors, n)?,
    })
}
