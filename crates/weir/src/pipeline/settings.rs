//! Settings shared by pipelines built in code and pipeline config files:
//! failure handling and event-time windows.

use serde::{Deserialize, Serialize};

use super::duration::ConfigDuration;

/// What happens to records that fail.
///
/// A plugin call that fails as a whole (trap, deadline, memory cap) is
/// retried on the same records up to `max_retries` times, waiting
/// `retry_backoff` and twice as long each time (at most 30 s). With
/// `bisect_on_error` a failed call on more than one record is first split
/// in two halves, each processed on its own, recursively, until the
/// failing records are alone; splitting does not use up retries. Records
/// whose last attempt failed go to `on_failure` and the partition moves
/// on: a bad record holds up its partition for at most its retry budget.
/// Records a plugin reports as failed (per-record errors) are not retried:
/// only they go to `on_failure`, the rest of the batch continues.
/// A sink write that fails is retried the same way; then its records go to
/// `on_failure` too. If `on_failure` itself cannot be written, the pipeline
/// stops without committing past those records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ErrorsConfig {
    /// Sink that receives failed records with their error context. Default:
    /// a file `dead-letters.jsonl` in the data directory.
    pub on_failure: Option<String>,
    /// Retries of a failed plugin call or sink write. Example: `max_retries = 2`.
    pub max_retries: u32,
    /// Wait before the first retry; doubles each retry. Example: `retry_backoff = "100ms"`.
    pub retry_backoff: ConfigDuration,
    /// Split failed batches in two to isolate the failing records.
    /// Example: `bisect_on_error = true`.
    pub bisect_on_error: bool,
    /// Records older than this (by their timestamp) when they are read go
    /// to `on_failure` unprocessed. Example: `max_record_age = "1h"`.
    pub max_record_age: Option<ConfigDuration>,
}

impl Default for ErrorsConfig {
    fn default() -> Self {
        ErrorsConfig {
            on_failure: None,
            max_retries: 2,
            retry_backoff: ConfigDuration(std::time::Duration::from_millis(100)),
            bisect_on_error: false,
            max_record_age: None,
        }
    }
}

/// Event-time tumbling windows of an aggregator stage.
///
/// Open windows are kept in the pipeline's state store, committed with the
/// source checkpoint; a batch writes only the windows it changed. A window
/// whose `emit` fails (a trap, a deadline, a limit) fails alone: it is
/// emitted again on its own per [`ErrorsConfig`] (`max_retries`,
/// `retry_backoff`), then goes to `on_failure` as one dead letter — keyed
/// by the window's key, its value the window's accumulator, with headers
/// `weir.window.start` and `weir.window.end` and an error naming the
/// window — and is removed; every other window and record of the
/// partition carries on. An accumulator larger than the stage's
/// `limits.accumulator_kb` fails the call that returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WindowConfig {
    /// Window length. Windows start at multiples of it since the Unix
    /// epoch. Example: `size = "60s"`.
    pub size: ConfigDuration,
    /// Windows per record key (`key`, the default) or per partition/shard
    /// (`partition`).
    #[serde(default)]
    pub by: WindowBy,
    /// How far behind the newest timestamp seen in a partition a window
    /// stays open for late records. Example: `allowed_lateness = "5s"`.
    #[serde(default)]
    pub allowed_lateness: Option<ConfigDuration>,
}

/// What windows are kept per.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowBy {
    /// One window per record key (records without a key share one).
    #[default]
    Key,
    /// One window per partition or shard.
    Partition,
}

impl ErrorsConfig {
    /// This policy with `max_retries` retries, the first after `backoff`.
    #[must_use]
    pub fn with_retries(mut self, max_retries: u32, backoff: std::time::Duration) -> Self {
        self.max_retries = max_retries;
        self.retry_backoff = ConfigDuration(backoff);
        self
    }

    /// This policy with failed batches split in two (or not).
    #[must_use]
    pub fn with_bisect_on_error(mut self, bisect: bool) -> Self {
        self.bisect_on_error = bisect;
        self
    }

    /// This policy with records older than `age` failed unprocessed.
    #[must_use]
    pub fn with_max_record_age(mut self, age: std::time::Duration) -> Self {
        self.max_record_age = Some(ConfigDuration(age));
        self
    }
}

impl WindowConfig {
    /// Tumbling windows of `size`, per key, closed as soon as the
    /// partition's newest timestamp passes their end.
    pub fn new(size: std::time::Duration) -> Self {
        WindowConfig {
            size: ConfigDuration(size),
            by: WindowBy::Key,
            allowed_lateness: None,
        }
    }

    /// These windows kept per `by`.
    #[must_use]
    pub fn by(mut self, by: WindowBy) -> Self {
        self.by = by;
        self
    }

    /// These windows open for `lateness` after their end.
    #[must_use]
    pub fn with_allowed_lateness(mut self, lateness: std::time::Duration) -> Self {
        self.allowed_lateness = Some(ConfigDuration(lateness));
        self
    }
}
