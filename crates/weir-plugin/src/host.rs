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

    /// The values of many keys, read in one host call by [`get_many`].
    #[derive(Debug)]
    pub struct Values(raw::Values);

    impl Values {
        /// The value of the `i`-th key asked for, if it has one.
        pub fn get(&self, i: usize) -> Option<&[u8]> {
            let v = &self.0;
            if *v.found.get(i)? == 0 {
                return None;
            }
            let start = if i == 0 { 0 } else { v.ends[i - 1] as usize };
            v.data.get(start..*v.ends.get(i)? as usize)
        }

        /// How many keys were asked for.
        pub fn len(&self) -> usize {
            self.0.found.len()
        }

        /// Whether no key was asked for.
        pub fn is_empty(&self) -> bool {
            self.0.found.is_empty()
        }
    }

    /// The values stored under each of `keys`, in one host call: for a
    /// plugin that reads the state of a whole batch's keys at once (one
    /// call instead of one per key).
    pub fn get_many(keys: &[String]) -> Values {
        Values(raw::get_many(keys))
    }

    /// Stores `values[i]` under `keys[i]` for every `i`, in order, in one
    /// host call: what [`set`] does one by one. The call traps if the
    /// lists are not as long as each other.
    pub fn set_many(keys: &[String], values: &[Vec<u8>]) {
        raw::set_many(keys, values);
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
