//! The host side of the plugin imports: log, metrics, state and config.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{config, log, metrics, state};
use super::budget::{LogBudget, cut};
use super::limiter::Limiter;
use super::stdio::GuestOutput;
use super::{Limits, QuotaExceeded};
use crate::metrics::{Buckets, Counter, Metrics, names};
use crate::state::{StateHandle, WriteRefused};

/// What each state write counts against `limits.state_write_mb` beyond its
/// key and value: the host's bookkeeping of an uncommitted write, so that
/// millions of tiny writes are bounded as well as a few large ones.
pub(crate) const WRITE_OVERHEAD: usize = 64;

/// What a store holds for one plugin instance.
pub(crate) struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) settings: Arc<BTreeMap<String, String>>,
    pub(crate) state: StateHandle,
    pub(crate) metrics: Option<Metrics>,
    /// The count of this plugin's refused metric updates, looked up once: a
    /// flood of refused updates costs a lookup of the name and no more.
    series_dropped: Option<Counter>,
    pub(crate) limits: Limiter,
    /// The stage's limits on what the plugin may make the host spend.
    pub(crate) quotas: Limits,
    /// The call's log budget, shared with stdout and stderr.
    log_budget: LogBudget,
    /// Bytes written to state in the current call.
    state_written: usize,
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
        state: StateHandle,
        metrics: Option<Metrics>,
        quotas: Limits,
    ) -> Self {
        let log_budget = LogBudget::new(plugin.clone(), &quotas);
        let line = quotas.message_bytes();
        let stdio = [
            GuestOutput::new("stdout", line, log_budget.clone()),
            GuestOutput::new("stderr", line, log_budget.clone()),
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
            series_dropped: None,
            limits: Limiter::new(quotas.memory_bytes()),
            quotas,
            log_budget,
            state_written: 0,
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
        let message = cut(message, self.quotas.message_bytes());
        if level == log::Level::Error {
            // Kept for the trap report even when the line is not logged.
            self.last_error_log = Some(message.clone());
        }
        if !self.log_budget.admit(message.len()) {
            return;
        }
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
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

impl HostState {
    /// The metrics, the plugin's name and its metric `name` in full, if it
    /// may update it (see `limits.metric_series`); a refused update is
    /// counted.
    fn metric(&mut self, name: &str) -> Option<(&Metrics, &str, String)> {
        let m = self.metrics.as_ref()?;
        let admitted = (name.len() <= names::MAX_PLUGIN_METRIC_NAME)
            .then(|| plugin_metric(name))
            .filter(|full| m.admit_plugin_series(&self.plugin, full, self.quotas.metric_series()));
        if let Some(full) = admitted {
            return self.metrics.as_ref().map(|m| (m, &*self.plugin, full));
        }
        self.series_dropped
            .get_or_insert_with(|| {
                m.counter(
                    names::PLUGIN_SERIES_DROPPED,
                    "Plugin metric updates dropped: a new name past the plugin's `limits.metric_series`, or a name that is too long.",
                    &[("plugin", &self.plugin)],
                )
            })
            .inc();
        None
    }
}

impl metrics::Host for HostState {
    fn counter_add(&mut self, name: String, delta: u64) {
        if let Some((m, plugin, name)) = self.metric(&name) {
            m.counter(&name, PLUGIN_HELP, &[("plugin", plugin)])
                .inc_by(delta);
        }
    }

    fn gauge_set(&mut self, name: String, value: f64) {
        if let Some((m, plugin, name)) = self.metric(&name) {
            m.gauge(&name, PLUGIN_HELP, &[("plugin", plugin)])
                .set(value);
        }
    }

    fn histogram_observe(&mut self, name: String, value: f64) {
        if let Some((m, plugin, name)) = self.metric(&name) {
            m.histogram(&name, PLUGIN_HELP, Buckets::Default, &[("plugin", plugin)])
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

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<()> {
        self.write(key, Some(value))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.write(key, None)
    }

    /// Each key as `get` answers it, packed; a read that fails traps the
    /// call as in `get`. An answer larger than the instance's memory limit
    /// (`limits.memory_mb`, at most 4 GiB) traps with that quota.
    fn get_many(&mut self, keys: Vec<String>) -> wasmtime::Result<state::Values> {
        let mut values = state::Values {
            data: Vec::new(),
            ends: Vec::with_capacity(keys.len()),
            found: Vec::with_capacity(keys.len()),
        };
        let limit = self.quotas.memory_bytes();
        for key in &keys {
            // Each value is copied once, from the state into the answer.
            let found = self
                .state
                .with_value(key, |value| {
                    let Some(v) = value else {
                        return Ok(false);
                    };
                    // The answer must fit in the instance's memory: naming
                    // one large value many times must not make the host
                    // build more.
                    let size = values.data.len().saturating_add(v.len());
                    if size > limit {
                        return Err(size);
                    }
                    values.data.extend_from_slice(v);
                    Ok(true)
                })
                .map_err(|e| wasmtime::format_err!("state read of key `{key}` failed: {e}"))?
                .map_err(|size| {
                    wasmtime::Error::new(QuotaExceeded::new(
                        "memory_mb",
                        self.quotas.memory_mb,
                        " MiB",
                        format!("a `state.get-many` answer of {size} bytes or more"),
                    ))
                })?;
            let end = u32::try_from(values.data.len()).unwrap_or(u32::MAX);
            values.ends.push(end);
            values.found.push(u8::from(found));
        }
        Ok(values)
    }

    /// Each write as `set` makes it, in order, within the same limits.
    fn set_many(&mut self, keys: Vec<String>, values: Vec<Vec<u8>>) -> wasmtime::Result<()> {
        if keys.len() != values.len() {
            return Err(wasmtime::format_err!(
                "`state.set-many` was given {} keys and {} values: the lists must be as long as \
                 each other",
                keys.len(),
                values.len()
            ));
        }
        for (key, value) in keys.into_iter().zip(values) {
            self.write(key, Some(value))?;
        }
        Ok(())
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }
}

impl super::bindings::types::Host for HostState {}

impl HostState {
    /// A state write, within `limits.state_write_mb` for the call and the
    /// state's own limits; past one, the call traps with the
    /// [`QuotaExceeded`] that names it.
    fn write(&mut self, key: String, value: Option<Vec<u8>>) -> wasmtime::Result<()> {
        let size = key.len() + value.as_ref().map_or(0, Vec::len) + WRITE_OVERHEAD;
        let written = self.state_written.saturating_add(size);
        if written > self.quotas.state_write_bytes() {
            return Err(wasmtime::Error::new(QuotaExceeded::new(
                "state_write_mb",
                self.quotas.state_write_mb,
                " MiB",
                format!("the call wrote {written} bytes to state"),
            )));
        }
        self.state
            .write_within(self.write_tag, key, value, &self.quotas)
            .map_err(|refused| match refused {
                WriteRefused::Quota(q) => wasmtime::Error::new(q),
                store @ WriteRefused::Store { .. } => wasmtime::format_err!("{store}"),
            })?;
        self.state_written = written;
        Ok(())
    }

    /// Starts a call: the per-call budgets are reset.
    pub(crate) fn begin_call(&mut self, write_tag: u64) {
        self.write_tag = write_tag;
        self.last_error_log = None;
        self.state_written = 0;
    }

    /// While `quiet`, the plugin's log lines and stdio are dropped.
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
        for out in &self.stdio {
            out.set_quiet(quiet);
        }
    }

    /// Ends a call: what is left of the guest's stdout and stderr is
    /// logged, and the lines dropped in the call are reported.
    pub(crate) fn end_call(&self) {
        for out in &self.stdio {
            out.end_call();
        }
        self.log_budget.end_call();
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::{Metrics, names};
    use crate::plugin::{Engine, Grants, InstanceOptions, Limits};
    use crate::record::{Batch, Position, Record};

    #[test]
    fn a_plugin_gets_at_most_its_metric_series() -> Result<(), Box<dyn std::error::Error>> {
        let engine = Engine::new()?;
        let plugin = engine.load_file(
            &weir_test_support::plugin("hostile_filter"),
            Grants::default(),
        )?;
        let metrics = Metrics::new();
        let options = InstanceOptions::with_settings([("attack", "metric_flood")])
            .with_limits(Limits {
                metric_series: 7,
                // A million updates take seconds in a debug build on a
                // loaded machine; this test is about the series, not time.
                deadline_ms: 120_000,
                ..Limits::default()
            })
            .with_metrics(metrics.clone());
        let mut instance = plugin.instantiate(options)?;
        let record = Record::new(
            br#"{"txn_id":"t-00000007"}"#.to_vec(),
            Position::Offset(0),
            0,
        );
        let out = instance.process(Batch::new("t", "0", vec![record]));
        assert_eq!(
            out.as_ref()
                .map(|o| o.records.len())
                .map_err(|e| e.error.to_string()),
            Ok(1)
        );
        let text = metrics.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("weir_plugin_hostile_"))
            .count();
        assert_eq!(series, 7, "{text}");
        let dropped = metrics.counter_value(
            names::PLUGIN_SERIES_DROPPED,
            &[("plugin", "hostile_filter")],
        );
        assert_eq!(dropped, 1_000_000 - 7);
        Ok(())
    }
}
