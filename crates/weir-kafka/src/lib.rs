//! Apache Kafka for weir: a consumer-group **source** and an idempotent
//! producer **sink**, both `type = "kafka"` once [`register`]ed.
//!
//! ```toml
//! [source]
//! type = "kafka"
//! brokers = "127.0.0.1:9092"
//! topics = ["transactions"]
//! group = "fraud-detection"      # required; keep it stable
//! start = "earliest"             # new group: "earliest", "latest" or epoch ms
//!
//! [sinks.alerts]
//! type = "kafka"
//! brokers = "127.0.0.1:9092"
//! topic = "fraud-alerts"
//! ```
//!
//! # Delivery guarantees
//!
//! At least once, per partition in order:
//!
//! - Partitions are batched separately and run in their own lanes, so they
//!   are processed concurrently, each in offset order.
//! - A partition's offset is committed only up to the highest offset below
//!   which every record was acknowledged by every sink, dropped records
//!   included ([`KafkaSource`]).
//! - The group uses the cooperative-sticky assignor. On a rebalance, records
//!   of a revoked partition not yet batched are dropped, batches in flight
//!   finish, but their offsets are no longer committed: the new owner
//!   reads them again.
//! - The sink's producer is idempotent with `acks=all`; a write is
//!   acknowledged when every record's delivery report is positive. Records
//!   that fail are retried by the pipeline (only those), then go to the
//!   failure destination ([`KafkaSink`]).
//! - A Kafka sink used as the failure destination writes each failed record
//!   with its original key, value and headers, plus `weir.*` headers with
//!   the error, stage, plugin, source topic, partition and offset
//!   ([`weir::DeadLetter::context_headers`]).
//!
//! # Options
//!
//! See [`SourceOptions`] and [`SinkOptions`]. Any librdkafka property
//! (security, SASL, timeouts, fetch sizes…) goes in a `properties` table
//! and is checked by librdkafka when the pipeline is validated. One
//! default differs from librdkafka's: the source's
//! `fetch.queue.backoff.ms` is 10 ms, not 1 s ([`FETCH_QUEUE_BACKOFF_MS`]),
//! so a fast pipeline is not left waiting for its next fetch.
//!
//! # Metrics
//!
//! [`CONSUMER_LAG`]: records between each partition's high watermark and
//! the group's committed offset, from librdkafka's statistics (every 5 s;
//! change with the `statistics.interval.ms` property).

mod admin;
mod arena;
mod assign;
mod context;
mod delivery;
mod options;
mod read;
mod sink;
mod source;

use std::sync::Arc;

use weir::connectors::{ConnectorContext, Registry, SinkConnector, SourceConnector};
use weir::{Sink, Source};

pub use admin::{AdminError, ensure_topic};
pub use context::CONSUMER_LAG;
pub use options::{
    FETCH_QUEUE_BACKOFF_MS, OneOrMany, SinkOptions, SourceOptions, Start, check_topic_name,
};
pub use read::read_topic;
pub use sink::KafkaSink;
pub use source::{KafkaSource, partition_name};

/// The `kafka` connector (source and sink), for a [`Registry`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaConnector;

/// Adds the `kafka` source and sink types to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register_source("kafka", KafkaConnector);
    registry.register_sink("kafka", KafkaConnector);
}

/// The built-in connectors plus Kafka.
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    register(&mut r);
    r
}

impl SourceConnector for KafkaConnector {
    type Options = SourceOptions;

    /// librdkafka checks every property without connecting.
    fn check(&self, options: &SourceOptions) -> Result<(), String> {
        options.client_config().map(drop)
    }

    fn build(
        &self,
        options: SourceOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(KafkaSource::new(&options, ctx.metrics.clone())?))
    }
}

impl SinkConnector for KafkaConnector {
    type Options = SinkOptions;

    /// librdkafka checks every property without connecting.
    fn check(&self, options: &SinkOptions) -> Result<(), String> {
        options.client_config().map(drop)
    }

    fn build(
        &self,
        name: &str,
        options: SinkOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        Ok(Arc::new(KafkaSink::new(
            name,
            &options,
            ctx.metrics.clone(),
        )?))
    }
}
