//! The host side of the plugin imports: log, metrics, state and config.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{config, log, metrics, state};
use crate::metrics::Metrics;
use crate::state::{StateHandle, StateStore};

/// What a store holds for one plugin instance.
pub(crate) struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) settings: Arc<BTreeMap<String, String>>,
    pub(crate) state: StateHandle,
    pub(crate) metrics: Option<Metrics>,
    pub(crate) limits: StoreLimits,
    /// The last error-level line the plugin logged during the current call
    /// (the SDK logs panic messages there before trapping).
    pub(crate) last_error_log: Option<String>,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl HostState {
    pub(crate) fn new(
        plugin: Arc<str>,
        settings: Arc<BTreeMap<String, String>>,
        state: Option<StateHandle>,
        metrics: Option<Metrics>,
        memory_bytes: usize,
    ) -> Self {
        let state = state.unwrap_or_else(|| StateStore::in_memory().namespace(&plugin));
        HostState {
            plugin,
            settings,
            state,
            metrics,
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            last_error_log: None,
            // No preopens, no environment, no arguments, no sockets; stdio
            // discarded. Only linked at all when the plugin is granted WASI.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => {
                tracing::error!(plugin, "{message}");
                self.last_error_log = Some(message);
            }
        }
    }
}

fn plugin_metric(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("weir_plugin_{clean}")
}

impl metrics::Host for HostState {
    fn counter_add(&mut self, name: String, delta: u64) {
        if let Some(m) = &self.metrics {
            m.counter_add(&plugin_metric(&name), &[("plugin", &self.plugin)], delta);
        }
    }

    fn gauge_set(&mut self, name: String, value: f64) {
        if let Some(m) = &self.metrics {
            m.gauge_set(&plugin_metric(&name), &[("plugin", &self.plugin)], value);
        }
    }

    fn histogram_observe(&mut self, name: String, value: f64) {
        if let Some(m) = &self.metrics {
            m.observe(&plugin_metric(&name), &[("plugin", &self.plugin)], value);
        }
    }
}

impl state::Host for HostState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        match self.state.get(&key) {
            Ok(v) => v,
            Err(e) => {
                // The plugin cannot handle a store failure better than the
                // host; report it loudly and answer "absent".
                tracing::error!(plugin = &*self.plugin, key, "state read failed: {e}");
                None
            }
        }
    }

    fn set(&mut self, key: String, value: Vec<u8>) {
        self.state.set(&key, value);
    }

    fn delete(&mut self, key: String) {
        self.state.delete(&key);
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }
}

impl super::bindings::types::Host for HostState {}
