//! Host bindings for the `weir:plugin` WIT package, generated in this one place.
//!
//! One synthetic world includes every plugin world, so the host-service
//! imports are generated once and each plugin interface's export bindings
//! (`exports::weir::plugin::*_plugin`) can be loaded on their own. The
//! packed worlds include the plain ones, so the optional
//! `packed-*-plugin` exports are generated too.

#![allow(missing_docs, unused_qualifications, clippy::all)]

wasmtime::component::bindgen!({
    path: "../weir-plugin/wit",
    inline: "
        package weir:host;
        world plugin-host {
            include weir:plugin/packed-filter@0.2.0;
            include weir:plugin/packed-enricher@0.2.0;
            include weir:plugin/packed-scorer@0.2.0;
            include weir:plugin/reward@0.2.0;
            include weir:plugin/aggregator@0.2.0;
        }
    ",
    world: "weir:host/plugin-host",
    // A state read the store cannot answer, and a write past the state
    // limits, trap the call.
    imports: {
        "weir:plugin/state.get": trappable,
        "weir:plugin/state.set": trappable,
        "weir:plugin/state.delete": trappable,
        "weir:plugin/state.get-many": trappable,
        "weir:plugin/state.set-many": trappable,
    },
});

pub use self::exports::weir::plugin::{
    aggregator_plugin, enricher_plugin, filter_plugin, packed_enricher_plugin,
    packed_filter_plugin, packed_scorer_plugin, reward_plugin, scorer_plugin,
};
pub use self::weir::plugin::{config, log, metrics, state, types};
