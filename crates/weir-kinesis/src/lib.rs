//! Amazon Kinesis Data Streams for weir: a **source** that reads every shard
//! of a stream, alone or sharing the shards with other processes through a
//! DynamoDB lease table, and a **sink** that writes with PutRecords. Both
//! are `type = "kinesis"` once [`register`]ed.
//!
//! ```toml
//! [source]
//! type = "kinesis"
//! stream = "vehicle-telemetry"         # name or ARN
//! region = "eu-west-1"
//! start = "trim_horizon"               # or "latest", or epoch ms (AT_TIMESTAMP)
//! lease_table = "vehicle-enricher"     # optional: share shards between processes
//!
//! [sinks.enriched]
//! type = "kinesis"
//! stream = "vehicle-telemetry-enriched"
//! partition_key_field = "vehicle_id"
//! ```
//!
//! Credentials come from the usual AWS chain (environment, profile, instance
//! or task role). `endpoint` (and `dynamodb_endpoint`) point the clients
//! elsewhere, e.g. at a local emulator.
//!
//! # Reading
//!
//! - Each shard is read by its own reader with GetRecords, at most five
//!   calls per second (`poll_interval`), waiting `idle_interval` after an
//!   empty answer. Throttling (`ProvisionedThroughputExceededException`,
//!   `LimitExceededException`) and failed calls are retried with
//!   exponential backoff and jitter, counted in [`THROTTLED`] and logged (at
//!   most every 10 s per shard). An expired iterator is replaced by one
//!   after the last record read.
//! - Shards are batched separately and run in their own lanes, each in
//!   sequence-number order. Records of a KPL aggregate are de-aggregated
//!   into user records, each with its own position (`<sequence>:<index>`).
//! - `MillisBehindLatest` of every GetRecords answer is the
//!   [`ITERATOR_AGE`] gauge per shard.
//!
//! # Resharding
//!
//! A shard's children (after a split or merge) are read only when every
//! parent was read to its end and every record of it was acknowledged, so
//! all of a parent's records are processed before any of its children's.
//! A closed shard is always read to its end, never skipped. Children found
//! after their parents were read start at their first record, whatever
//! `start` says.
//!
//! # Checkpoints and leases
//!
//! A shard's checkpoint is the sequence number up to which every record is
//! acknowledged by every sink (dropped records included); a finished shard
//! is checkpointed `SHARD_END`.
//!
//! - **Without `lease_table`** one process reads every shard, and the
//!   checkpoints are kept in weir's own store with the plugins' state.
//! - **With `lease_table`** the checkpoints and leases are items of a
//!   DynamoDB table (created if missing, on-demand capacity), one per shard,
//!   with the KCL's attributes: `leaseKey`, `leaseOwner`, `leaseCounter`,
//!   `checkpoint`, `checkpointSubSequenceNumber`,
//!   `ownerSwitchesSinceCheckpoint`, `parentShardId`. Use one table per
//!   stream and pipeline.
//!   - A process renews its leases three times per `lease_duration`
//!     (default 10 s) and writes the checkpoints with each renewal.
//!   - A lease whose counter has not moved for `lease_duration` is taken
//!     over by another process, which resumes after its checkpoint.
//!   - Each process takes free and expired leases up to an even share, and
//!     takes one lease per round from a process holding more than its share,
//!     so a process joining gets its share.
//!   - Every change is a conditional write on the counter: two processes
//!     can never both own a lease, and a process that lost a lease cannot
//!     move its checkpoint.
//!   - A process that stops cleanly writes its last checkpoints and releases
//!     its leases; the others take them at once.
//!
//! Delivery is at least once: records read after the last checkpoint are
//! read again by whoever reads the shard next. weir's own store also keeps
//! the acknowledged position per shard, and a process never re-reads
//! records at or below it.
//!
//! # Writing
//!
//! See [`KinesisSink`]: PutRecords calls of at most 500 records and 5 MiB,
//! records up to 1 MiB, partition key from a JSON field or the record key,
//! refused records retried exactly. Kinesis records carry no headers: a
//! record's headers are not written.

mod aws;
mod balance;
mod coordinator;
pub mod kpl;
mod leases;
mod options;
mod progress;
mod reader;
mod retry;
mod sequence;
mod shards;
mod sink;
mod source;

use std::sync::Arc;

use weir::connectors::{ConnectorContext, Registry, SinkConnector, SourceConnector};
use weir::{Sink, Source};

pub use aws::https_client;
pub use options::{Connection, SinkOptions, SourceOptions, Split, Start, split_options};
pub use sequence::{SeqKey, compare_seq};
pub use sink::{KinesisSink, MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, MAX_RECORDS_PER_CALL};
pub use source::KinesisSource;

/// Gauge: `MillisBehindLatest` of the last GetRecords answer, per `stream`
/// and `shard` (how far the reader is behind the shard's tip).
pub const ITERATOR_AGE: &str = weir::metrics::names::KINESIS_ITERATOR_AGE;
const ITERATOR_AGE_HELP: &str = "MillisBehindLatest of the last GetRecords answer.";
/// Counter: calls refused for throughput, per `stream` and `operation`
/// (`GetRecords`, `GetShardIterator`, `PutRecords`).
pub const THROTTLED: &str = weir::metrics::names::KINESIS_THROTTLED;
const THROTTLED_HELP: &str = "Kinesis calls refused for throughput.";
/// Gauge: shard leases this process holds, per `stream`.
pub const LEASES_HELD: &str = weir::metrics::names::KINESIS_LEASES_HELD;
const LEASES_HELD_HELP: &str = "Shard leases this process holds.";

/// The `kinesis` connector (source and sink), for a [`Registry`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KinesisConnector;

/// Adds the `kinesis` source and sink types to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register_source("kinesis", KinesisConnector);
    registry.register_sink("kinesis", KinesisConnector);
}

impl SourceConnector for KinesisConnector {
    type Options = Split<SourceOptions>;

    fn check(&self, Split(connection, options): &Split<SourceOptions>) -> Result<(), String> {
        connection.check()?;
        options.settings().map(drop)
    }

    fn build(
        &self,
        Split(connection, options): Split<SourceOptions>,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(KinesisSource::new(
            connection,
            &options,
            ctx.metrics.clone(),
        )?))
    }
}

impl SinkConnector for KinesisConnector {
    type Options = Split<SinkOptions>;

    fn check(&self, Split(connection, options): &Split<SinkOptions>) -> Result<(), String> {
        connection.check()?;
        options.check()
    }

    fn build(
        &self,
        name: &str,
        Split(connection, options): Split<SinkOptions>,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        Ok(Arc::new(KinesisSink::new(
            name,
            connection,
            &options,
            ctx.metrics.clone(),
        )?))
    }
}
