//! Host services as plain functions.

/// Log lines, written to the host's structured log with the plugin's name.
pub mod log {
    use crate::bindings::weir::plugin::log::{Level, log};

    /// Writes a `trace` line (very detailed diagnostics).
    pub fn trace(message: &str) {
        log(Level::Trace, message);
    }

    /// Writes a `debug` line (diagnostics for plugin authors).
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Writes an `info` line (normal operation).
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Writes a `warn` line (something unexpected that the plugin handled).
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Writes an `error` line (something failed).
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// Per-plugin key-value state, persisted by the host and checkpointed with
/// the source positions. Each plugin sees only its own keys.
pub mod state {
    use crate::bindings::weir::plugin::state as raw;

    /// The value stored under `key`, if any.
    pub fn get(key: &str) -> Option<Vec<u8>> {
        raw::get(key)
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set(key: &str, value: &[u8]) {
        raw::set(key, value);
    }

    /// Removes `key`; removing a missing key is not an error.
    pub fn delete(key: &str) {
        raw::delete(key);
    }
}

/// Metrics, exported by the host with the prefix `weir_plugin_` and a
/// `plugin` label; counters also get the suffix `_total`.
pub mod metrics {
    use crate::bindings::weir::plugin::metrics as raw;

    /// Adds `delta` to the counter `name`.
    pub fn counter_add(name: &str, delta: u64) {
        raw::counter_add(name, delta);
    }

    /// Sets the gauge `name` to `value`.
    pub fn gauge_set(name: &str, value: f64) {
        raw::gauge_set(name, value);
    }

    /// Records one observation of `value` in the histogram `name`.
    pub fn histogram_observe(name: &str, value: f64) {
        raw::histogram_observe(name, value);
    }
}

/// The plugin's settings from the pipeline config, readable at any time
/// (the same values `init` receives as [`Settings`](crate::Settings)).
pub mod config {
    use crate::bindings::weir::plugin::config as raw;

    /// The value of setting `key`, if the pipeline sets it.
    pub fn get(key: &str) -> Option<String> {
        raw::get(key)
    }
}
