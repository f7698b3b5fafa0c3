//! One type per plugin world, behind one internal trait.
//!
//! Each world knows how to find its exports in a pre-instantiated
//! component ([`Exports`]), and how to `init` a live instance and run one
//! batch through it ([`Guest`]), turning the plugin's answer into a
//! validated [`Decision`]. Adding a world means a new file here, a
//! [`PluginKind`] row, and one line in [`exports`].

mod aggregator;
mod enricher;
mod filter;
mod reward;
mod scorer;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use super::bindings::aggregator_plugin;
use super::host::HostState;
use super::marshal::BatchBuffers;
use super::outcome::Decision;
use super::{PluginKind, QuotaExceeded};
use crate::record::Batch;

/// What a guest call gives back: a trap (the outer error, which discards
/// the instance), or the plugin's answer — a decision, or why the answer
/// was refused.
pub(crate) type CallResult<T> = wasmtime::Result<Result<T, Refused>>;

/// Why a plugin's answer was refused before any of it was applied.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It breaks the contract (an index out of range, given twice, …).
    Contract(String),
    /// It is larger than the stage's limits allow.
    Quota(QuotaExceeded),
}

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Refused::Contract(message)
    }
}

impl From<QuotaExceeded> for Refused {
    fn from(quota: QuotaExceeded) -> Self {
        Refused::Quota(quota)
    }
}

/// A live instance of one world.
pub(crate) trait Guest: Send + Sync {
    /// Calls the plugin's `init` with its settings (a `Vec`, as the
    /// generated bindings take it).
    #[allow(clippy::ptr_arg)]
    fn init(
        &self,
        store: &mut Store<HostState>,
        settings: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<(), String>>;

    /// Runs one non-empty batch; `None` for worlds without `process`.
    fn process(
        &self,
        store: &mut Store<HostState>,
        buffers: &mut BatchBuffers,
        batch: &Batch,
    ) -> Option<CallResult<Decision>>;

    /// The aggregator calls, for the aggregator world only.
    fn aggregator(&self) -> Option<&aggregator_plugin::Guest> {
        None
    }
}

/// Where a world's exports sit in a compiled component.
pub(crate) trait Exports: Send + Sync {
    /// Looks the exports up in a fresh instance.
    fn load(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Box<dyn Guest>>;
}

/// The exports of world `kind` in `pre`: the one registration of every
/// world.
pub(crate) fn exports(
    kind: PluginKind,
    pre: &InstancePre<HostState>,
) -> wasmtime::Result<Box<dyn Exports>> {
    Ok(match kind {
        PluginKind::Filter => Box::new(filter::FilterExports::new(pre)?),
        PluginKind::Enricher => Box::new(enricher::EnricherExports::new(pre)?),
        PluginKind::Scorer => Box::new(scorer::ScorerExports::new(pre)?),
        PluginKind::Reward => Box::new(reward::RewardExports::new(pre)?),
        PluginKind::Aggregator => Box::new(aggregator::AggregatorExports::new(pre)?),
    })
}

/// Implements [`Exports`] and the `init` half of [`Guest`] for a world
/// whose bindings module is `$bindings`; with a second module `$packed`,
/// also the world's optional packed export, used when the plugin has it.
macro_rules! world_exports {
    ($exports:ident, $guest:ident, $bindings:ident) => {
        pub(crate) struct $exports($bindings::GuestIndices);

        impl $exports {
            pub(crate) fn new(
                pre: &wasmtime::component::InstancePre<$crate::plugin::host::HostState>,
            ) -> wasmtime::Result<Self> {
                $bindings::GuestIndices::new(pre).map($exports)
            }
        }

        impl $crate::plugin::worlds::Exports for $exports {
            fn load(
                &self,
                store: &mut wasmtime::Store<$crate::plugin::host::HostState>,
                instance: &wasmtime::component::Instance,
            ) -> wasmtime::Result<Box<dyn $crate::plugin::worlds::Guest>> {
                Ok(Box::new($guest(self.0.load(store, instance)?)))
            }
        }

        pub(crate) struct $guest($bindings::Guest);
    };
    ($exports:ident, $guest:ident, $bindings:ident, $packed:ident = $kind:expr) => {
        pub(crate) struct $exports($bindings::GuestIndices, Option<$packed::GuestIndices>);

        impl $exports {
            pub(crate) fn new(
                pre: &wasmtime::component::InstancePre<$crate::plugin::host::HostState>,
            ) -> wasmtime::Result<Self> {
                // A plugin without the packed export is called with the
                // columnar batch; one with a packed export of another shape
                // is refused.
                let name = $kind.packed_export_name();
                let packed = match pre.component().get_export_index(None, &name) {
                    Some(_) => Some($packed::GuestIndices::new(pre)?),
                    None => None,
                };
                Ok($exports($bindings::GuestIndices::new(pre)?, packed))
            }
        }

        impl $crate::plugin::worlds::Exports for $exports {
            fn load(
                &self,
                store: &mut wasmtime::Store<$crate::plugin::host::HostState>,
                instance: &wasmtime::component::Instance,
            ) -> wasmtime::Result<Box<dyn $crate::plugin::worlds::Guest>> {
                let packed = match &self.1 {
                    Some(p) => Some(p.load(&mut *store, instance)?),
                    None => None,
                };
                Ok(Box::new($guest(self.0.load(store, instance)?, packed)))
            }
        }

        pub(crate) struct $guest($bindings::Guest, Option<$packed::Guest>);
    };
}
pub(crate) use world_exports;

/// The `init` call, the same in every world.
macro_rules! init_call {
    () => {
        #[allow(clippy::ptr_arg)]
        fn init(
            &self,
            store: &mut wasmtime::Store<$crate::plugin::host::HostState>,
            settings: &Vec<(String, String)>,
        ) -> wasmtime::Result<Result<(), String>> {
            self.0.call_init(store, settings)
        }
    };
}
pub(crate) use init_call;

/// The `process` call of a world that takes the batch, packed when the
/// plugin exports the packed form and columnar otherwise, and answers with
/// one value, which the world's `decide(answer, batch size, limits)`
/// validates and turns into a [`Decision`].
macro_rules! batch_process {
    () => {
        fn process(
            &self,
            store: &mut wasmtime::Store<$crate::plugin::host::HostState>,
            buffers: &mut $crate::plugin::marshal::BatchBuffers,
            batch: &$crate::record::Batch,
        ) -> Option<$crate::plugin::worlds::CallResult<$crate::plugin::outcome::Decision>> {
            let limits = store.data().quotas;
            let answer = match &self.1 {
                Some(packed) => packed.call_process(
                    store,
                    buffers.pack_bytes(&batch.origin, &batch.partition, &batch.records),
                ),
                None => self.0.call_process(
                    store,
                    buffers.pack(&batch.origin, &batch.partition, &batch.records),
                ),
            };
            Some(answer.map(|answer| decide(answer, batch.records.len(), &limits)))
        }
    };
}
pub(crate) use batch_process;
