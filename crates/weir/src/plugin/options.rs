//! Per-plugin limits, grants and settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::state::StateHandle;

/// What one plugin may make the host spend: per instance, per call and per
/// stage. A plugin is treated as an adversary: every resource it can make
/// the host hold or do is bounded here, with a default safe on a small
/// machine, and every limit is checked before the host allocates for what
/// the plugin asked. A call that passes a limit fails with
/// [`PluginError::Quota`](super::PluginError::Quota), which names the limit,
/// its value and the config key that raises it (`limits.<field>` of the
/// stage); the error policy then retries or dead-letters the batch like
/// any failed call. Text limits truncate instead, with a marker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Limits {
    /// Longest a single call (`init` or one batch) may run, in milliseconds.
    /// Past it the call traps with [`TrapKind::Deadline`](super::TrapKind::Deadline).
    /// Default 5000. Example: `deadline_ms = 2000`.
    pub deadline_ms: u64,
    /// Largest linear memory the instance may grow to, in MiB. It also
    /// bounds what one call can hand the host: a plugin's answer is copied
    /// out of this memory. Default 256. Example: `memory_mb = 64`.
    pub memory_mb: u64,
    /// The disk the stage's plugin state may take, in MiB. Its entries may
    /// fill half of it (the store file grows by doubling, and a commit
    /// copies the pages it changes), counted as the store file holds them:
    /// each key with its value plus 16 bytes, and an entry larger than
    /// 4 KiB as the next power of two. A `state.set` past it fails the
    /// call; a delete is always allowed. Uncommitted writes count in full
    /// until their batch is committed. Default 128. Example:
    /// `state_mb = 1024`.
    pub state_mb: u64,
    /// Most keys the stage's plugin state may hold. Default 1,000,000.
    /// Example: `state_keys = 10000000`.
    pub state_keys: u64,
    /// Most bytes one call may write to state, in MiB: each write counts
    /// its key, its value and 64 bytes of the host's bookkeeping. Default
    /// 16. Example: `state_write_mb = 64`.
    pub state_write_mb: u64,
    /// Largest accumulator an aggregator may keep for one window, in KiB.
    /// Default 1024. Example: `accumulator_kb = 4096`.
    pub accumulator_kb: u64,
    /// Most records one call may emit (enrichers and aggregators), checked
    /// before any of them is built. Default 100,000. Example:
    /// `output_records = 1000000`.
    pub output_records: u64,
    /// Most bytes (keys, values and headers) of the records one call may
    /// emit, in MiB. Default 64. Example: `output_mb = 128`.
    pub output_mb: u64,
    /// Most log lines (the `log` import, stdout and stderr) one call may
    /// write; past it lines are counted and reported as one "N lines
    /// dropped" line at the end of the call. Default 100. Example:
    /// `log_lines = 1000`.
    pub log_lines: u64,
    /// Most bytes of log lines one call may write, in KiB; past it lines
    /// are dropped as above. Default 64. Example: `log_kb = 1024`.
    pub log_kb: u64,
    /// Longest message kept from the plugin (a log line, a per-record or
    /// call error, a panic message), in bytes; longer ones are cut with a
    /// marker saying how much was cut. Default 4096. Example:
    /// `message_bytes = 16384`.
    pub message_bytes: u64,
    /// Most distinct metric series the plugin may create (the `metrics`
    /// import); updates of further names are dropped and counted in
    /// `weir_plugin_metric_series_dropped_total`. Default 100. Example:
    /// `metric_series = 1000`.
    pub metric_series: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline_ms: 5_000,
            memory_mb: 256,
            state_mb: 128,
            state_keys: 1_000_000,
            state_write_mb: 16,
            accumulator_kb: 1024,
            output_records: 100_000,
            output_mb: 64,
            log_lines: 100,
            log_kb: 64,
            message_bytes: 4096,
            metric_series: 100,
        }
    }
}

/// Bytes in a KiB and a MiB, for the limits given in them.
const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

fn bytes(n: u64, unit: u64) -> usize {
    usize::try_from(n.saturating_mul(unit)).unwrap_or(usize::MAX)
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
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

    /// These limits with a state quota of `mb` MiB and `keys` keys.
    #[must_use]
    pub fn with_state_quota(mut self, mb: u64, keys: u64) -> Self {
        self.state_mb = mb;
        self.state_keys = keys;
        self
    }

    /// These limits with at most `records` records and `mb` MiB emitted
    /// per call.
    #[must_use]
    pub fn with_output(mut self, records: u64, mb: u64) -> Self {
        self.output_records = records;
        self.output_mb = mb;
        self
    }

    /// `memory_mb` in bytes.
    pub fn memory_bytes(&self) -> usize {
        bytes(self.memory_mb, MIB)
    }

    /// `state_mb` in bytes.
    pub fn state_bytes(&self) -> usize {
        bytes(self.state_mb, MIB)
    }

    /// `state_write_mb` in bytes.
    pub fn state_write_bytes(&self) -> usize {
        bytes(self.state_write_mb, MIB)
    }

    /// `accumulator_kb` in bytes.
    pub fn accumulator_bytes(&self) -> usize {
        bytes(self.accumulator_kb, KIB)
    }

    /// `output_mb` in bytes.
    pub fn output_bytes(&self) -> usize {
        bytes(self.output_mb, MIB)
    }

    /// `log_kb` in bytes.
    pub fn log_bytes(&self) -> usize {
        bytes(self.log_kb, KIB)
    }

    /// `output_records` as a count.
    pub fn output_records(&self) -> usize {
        count(self.output_records)
    }

    /// `log_lines` as a count.
    pub fn log_lines(&self) -> usize {
        count(self.log_lines)
    }

    /// `message_bytes` as a count.
    pub fn message_bytes(&self) -> usize {
        count(self.message_bytes)
    }

    /// `metric_series` as a count.
    pub fn metric_series(&self) -> usize {
        count(self.metric_series)
    }

    /// `state_keys` as a count.
    pub fn state_keys(&self) -> usize {
        count(self.state_keys)
    }

    /// The first limit that is zero, by its field name: every limit must be
    /// positive.
    pub fn zero_field(&self) -> Option<&'static str> {
        [
            ("deadline_ms", self.deadline_ms),
            ("memory_mb", self.memory_mb),
            ("state_mb", self.state_mb),
            ("state_keys", self.state_keys),
            ("state_write_mb", self.state_write_mb),
            ("accumulator_kb", self.accumulator_kb),
            ("output_records", self.output_records),
            ("output_mb", self.output_mb),
            ("log_lines", self.log_lines),
            ("log_kb", self.log_kb),
            ("message_bytes", self.message_bytes),
            ("metric_series", self.metric_series),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0)
        .map(|(name, _)| name)
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
    /// stderr at warn level, with fields `plugin` and `stream`), within the
    /// stage's log limits (`limits.log_lines`, `limits.log_kb`,
    /// `limits.message_bytes` of [`Limits`]). No
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
    /// The plugin's key-value state. With a handle, the caller makes the
    /// writes durable ([`StateHandle::flush`]; a pipeline commits them
    /// with its checkpoints). `None` gives the instance a state of its own
    /// in memory, which it keeps across traps: each successful call's
    /// writes are committed, a failed call's are dropped.
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
