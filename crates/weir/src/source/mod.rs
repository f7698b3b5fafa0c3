//! The [`Source`] extension point: where records come from.

mod acks;
mod batcher;

pub use acks::Acks;
pub use batcher::PartitionBatcher;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::record::{Batch, Position};

/// When a source hands over a batch: whichever limit is reached first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct BatchLimits {
    /// Most records in one batch. Example: `max_records = 500`.
    pub max_records: usize,
    /// Most bytes (keys + values + headers) in one batch. Example: `max_bytes = 1048576`.
    pub max_bytes: usize,
    /// Longest a partial batch waits for more records, in milliseconds
    /// (the batching window). Example: `max_wait_ms = 100`.
    pub max_wait_ms: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_records: 500,
            max_bytes: 4 << 20,
            max_wait_ms: 100,
        }
    }
}

impl BatchLimits {
    /// Limits of `max_records` records, `max_bytes` bytes and a batching
    /// window of `max_wait_ms` milliseconds.
    pub fn new(max_records: usize, max_bytes: usize, max_wait_ms: u64) -> Self {
        BatchLimits {
            max_records,
            max_bytes,
            max_wait_ms,
        }
    }

    /// Whether a batch of `records` records and `bytes` bytes may take one
    /// more record of `size` bytes. A record larger than `max_bytes` still
    /// makes a batch on its own.
    pub fn admits(&self, records: usize, bytes: usize, size: usize) -> bool {
        records < self.max_records && (records == 0 || bytes.saturating_add(size) <= self.max_bytes)
    }
}

/// An error of a source.
#[derive(Debug, thiserror::Error)]
#[error("source `{source_name}`: {message}")]
pub struct SourceError {
    /// Which source (type and location, e.g. `file examples/in.jsonl`).
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

impl SourceError {
    /// A new error for `source_name`.
    pub fn new(source_name: impl Into<String>, message: impl ToString) -> Self {
        SourceError {
            source_name: source_name.into(),
            message: message.to_string(),
        }
    }
}

/// Where records come from: a file, stdin, the generator, Kafka, Kinesis.
///
/// A source yields batches, each from a single partition (or shard) and in
/// that partition's order. weir keeps every partition's checkpoint in its
/// own store and, before the first batch, hands each one back
/// ([`Source::resume`]). Sources whose service keeps positions too (Kafka
/// consumer groups, Kinesis lease tables) learn which positions are safe
/// through the [`Acks`] handle given to [`Source::open`]: a position
/// arrives there once every record up to it was acknowledged by every sink
/// (records the filter skipped count as acknowledged), while the source
/// waits for records or not.
#[async_trait]
pub trait Source: Send {
    /// Called once before anything else, with the handle on which safe
    /// positions arrive. The default ignores it.
    async fn open(&mut self, acks: Acks) -> Result<(), SourceError> {
        let _ = acks;
        Ok(())
    }

    /// The next batch, cut by `limits` (see [`PartitionBatcher`] for
    /// sources that receive records of many partitions). `Ok(None)` means a
    /// bounded source is exhausted; an unbounded source waits until it has
    /// records (it need not return while idle: acknowledgements reach it
    /// through [`Acks`]).
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError>;

    /// Called before the first batch for each checkpoint weir's own store
    /// holds for this source: continue after `position` in `partition`.
    /// Sources whose service keeps their checkpoints (e.g. Kafka consumer
    /// groups) may ignore it.
    async fn resume(&mut self, partition: &str, position: &Position) -> Result<(), SourceError> {
        let _ = (partition, position);
        Ok(())
    }

    /// Called once when the run ends, after the last position was
    /// acknowledged: take what is left on the [`Acks`] handle, flush
    /// checkpoints and release the source (e.g. leave a consumer group so
    /// its partitions move at once).
    async fn close(&mut self) -> Result<(), SourceError> {
        Ok(())
    }

    /// Names the source in logs and keys its checkpoints, e.g.
    /// `file /data/in.jsonl`: two sources with the same description share
    /// checkpoints.
    fn describe(&self) -> String;
}
