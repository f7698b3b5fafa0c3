//! The host side of the plugin imports: log, metrics, state and config.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{config, log, metrics, state};
use super::limiter::Limiter;
use super::stdio::GuestOutput;
use crate::metrics::{Buckets, Metrics, names};
use crate::state::{StateHandle, StateStore};

/// What a store holds for one plugin instance.
pub(crate) struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) settings: Arc<BTreeMap<String, String>>,
    pub(crate) state: StateHandle,
    pub(crate) metrics: Option<Metrics>,
    pub(crate) limits: Limiter,
    /// The last error-level line the plugin logged during the current call
    /// (the SDK logs panic messages there before trapping).
    pub(crate) last_error_log: Option<String>,
    /// The tag the current call's state writes carry (see
    /// [`StateHandle::set`]); set by the caller before each call.
    pub(crate) write_tag: u64,
    /// The guest's stdout and stderr (WASI), as log lines.
    pub(crate) stdio: [GuestOutput; 2],
    /// A warm-up call: logs are dropped (see [`HostState::set_quiet`]).
    quiet: bool,
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
        let stdio = [
            GuestOutput::new(plugin.clone(), "stdout"),
            GuestOutput::new(plugin.clone(), "stderr"),
        ];
        // No preopens, no environment, no arguments, no sockets; stdout and
        // stderr become log lines of the plugin. Only linked at all when the
        // plugin is granted WASI.
        let wasi = WasiCtx::builder()
            .stdout(stdio[0].clone())
            .stderr(stdio[1].clone())
            .build();
        HostState {
            plugin,
            settings,
            state,
            metrics,
            limits: Limiter::new(memory_bytes),
            last_error_log: None,
            write_tag: 0,
            stdio,
            quiet: false,
            wasi,
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
        if self.quiet {
            return;
        }
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
    format!("{}{clean}", names::PLUGIN_PREFIX)
}

/// The help text of plugin metrics.
const PLUGIN_HELP: &str = "Reported by a plugin.";

impl metrics::Host for HostState {
    fn counter_add(&mut self, name: String, delta: u64) {
        if let Some(m) = &self.metrics {
            m.counter(
                &plugin_metric(&name),
                PLUGIN_HELP,
                &[("plugin", &self.plugin)],
            )
            .inc_by(delta);
        }
    }

    fn gauge_set(&mut self, name: String, value: f64) {
        if let Some(m) = &self.metrics {
            m.gauge(
                &plugin_metric(&name),
                PLUGIN_HELP,
                &[("plugin", &self.plugin)],
            )
            .set(value);
        }
    }

    fn histogram_observe(&mut self, name: String, value: f64) {
        if let Some(m) = &self.metrics {
            m.histogram(
                &plugin_metric(&name),
                PLUGIN_HELP,
                Buckets::Default,
                &[("plugin", &self.plugin)],
            )
            .observe(value);
        }
    }
}

impl state::Host for HostState {
    /// A read the store cannot answer fails the whole call (a trap the
    /// error policy retries): answering "absent" would let a stateful
    /// plugin overwrite history it could not see.
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        self.state
            .get(&key)
            .map_err(|e| wasmtime::format_err!("state read of key `{key}` failed: {e}"))
    }

    fn set(&mut self, key: String, value: Vec<u8>) {
        self.state.write(self.write_tag, &key, Some(value));
    }

    fn delete(&mut self, key: String) {
        self.state.write(self.write_tag, &key, None);
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }
}

impl super::bindings::types::Host for HostState {}

impl HostState {
    /// While `quiet`, the plugin's log lines and stdio are dropped.
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
        for out in &self.stdio {
            out.set_quiet(quiet);
        }
    }

    /// Ends a call: what is left of the guest's stdout and stderr is logged.
    pub(crate) fn end_call(&self) {
        for out in &self.stdio {
            out.end_call();
        }
    }
}
