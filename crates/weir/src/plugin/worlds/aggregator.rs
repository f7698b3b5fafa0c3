//! The `aggregator` world: no `process`; the windowed stage calls
//! `accumulate` and `emit` (see [`crate::plugin::WindowGroup`]).

use wasmtime::Store;

use super::{CallResult, Guest, init_call, world_exports};
use crate::plugin::bindings::aggregator_plugin;
use crate::plugin::host::HostState;
use crate::plugin::marshal::BatchBuffers;
use crate::plugin::outcome::Decision;
use crate::record::Batch;

world_exports!(AggregatorExports, AggregatorGuest, aggregator_plugin);

impl Guest for AggregatorGuest {
    init_call!();

    fn process(
        &self,
        _store: &mut Store<HostState>,
        _buffers: &mut BatchBuffers,
        _batch: &Batch,
    ) -> Option<CallResult<Decision>> {
        None
    }

    fn aggregator(&self) -> Option<&aggregator_plugin::Guest> {
        Some(&self.0)
    }
}
