//! The `filter` world: keep or drop each record.

use wasmtime::Store;

use super::{CallResult, Guest, init_call, world_exports};
use crate::plugin::bindings::filter_plugin;
use crate::plugin::host::HostState;
use crate::plugin::marshal::{BatchBuffers, record_errors};
use crate::plugin::outcome::Decision;
use crate::record::Batch;

world_exports!(FilterExports, FilterGuest, filter_plugin);

impl Guest for FilterGuest {
    init_call!();

    fn process(
        &self,
        store: &mut Store<HostState>,
        buffers: &mut BatchBuffers,
        batch: &Batch,
    ) -> Option<CallResult<Decision>> {
        let wit = buffers.pack(&batch.origin, &batch.partition, &batch.records);
        let verdicts = match self.0.call_process(store, wit) {
            Ok(v) => v,
            Err(trap) => return Some(Err(trap)),
        };
        Some(Ok(decide(verdicts, batch.records.len())))
    }
}

fn decide(v: filter_plugin::Verdicts, n: usize) -> Result<Decision, String> {
    let mut keep = vec![false; n];
    for i in v.keep {
        let i = i as usize;
        *keep
            .get_mut(i)
            .ok_or_else(|| format!("kept record {i}, but the batch has {n} records"))? = true;
    }
    Ok(Decision::Keep {
        keep,
        errors: record_errors(v.errors, n)?,
    })
}
