//! Per-plugin limits, grants and settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::state::StateHandle;

/// Resource limits of one plugin instance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Limits {
    /// Longest a single call (`init` or one batch) may run, in milliseconds.
    /// Past it the call traps with [`TrapKind::Deadline`](super::TrapKind::Deadline).
    /// Example: `deadline_ms = 2000`.
    pub deadline_ms: u64,
    /// Largest linear memory the instance may grow to, in MiB.
    /// Example: `memory_mb = 64`.
    pub memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 5_000,
            memory_mb: 256,
        }
    }
}

impl Limits {
    /// These limits with a call deadline of `ms` milliseconds.
    #[must_use]
    pub fn with_deadline_ms(mut self, ms: u64) -> Self {
        self.deadline_ms = ms;
        self
    }

    /// These limits with a memory cap of `mb` MiB.
    #[must_use]
    pub fn with_memory_mb(mut self, mb: u64) -> Self {
        self.memory_mb = mb;
        self
    }
}

/// Capabilities beyond the weir host services. Nothing is granted by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Grants {
    /// Link WASI for this plugin (clocks, random, stdout and stderr), e.g.
    /// for interpreters such as componentize-py. What the plugin writes to
    /// stdout and stderr becomes log lines of the plugin (stdout at info,
    /// stderr at warn level, with fields `plugin` and `stream`), at most
    /// [`MAX_LINES_PER_CALL`](super::MAX_LINES_PER_CALL) lines per call of
    /// at most [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES) bytes each. No
    /// filesystem, network, environment variables or arguments are ever
    /// exposed. Without the grant, a WASI call traps. Example: `wasi = true`.
    pub wasi: bool,
}

impl Grants {
    /// Nothing granted.
    pub fn none() -> Self {
        Grants::default()
    }

    /// These grants with WASI linked (or not).
    #[must_use]
    pub fn with_wasi(mut self, wasi: bool) -> Self {
        self.wasi = wasi;
        self
    }
}

/// Everything an instance needs besides the compiled plugin.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct InstanceOptions {
    /// Settings passed to `init` and served by the `config` import.
    pub settings: BTreeMap<String, String>,
    /// Resource limits.
    pub limits: Limits,
    /// The plugin's key-value state; `None` keeps state in memory.
    pub state: Option<StateHandle>,
    /// Where plugin metrics go; `None` discards them.
    pub metrics: Option<Metrics>,
}

impl InstanceOptions {
    /// Options with the given settings and default limits.
    pub fn with_settings<K: Into<String>, V: Into<String>>(
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        InstanceOptions {
            settings: settings
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Default::default()
        }
    }

    /// These options with `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// These options with the plugin's state in `state`.
    #[must_use]
    pub fn with_state(mut self, state: StateHandle) -> Self {
        self.state = Some(state);
        self
    }

    /// These options with plugin metrics going to `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }
}
