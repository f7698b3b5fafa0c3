//! Connectors: built-in sources and sinks, and the [`Registry`] that maps a
//! config `type` to a connector.
//!
//! | type | source | sink |
//! |---|---|---|
//! | `generator` | synthetic transactions, telemetry or race steps | – |
//! | `file` | JSON lines from a file | JSON lines to a file |
//! | `stdin` / `stdout` | JSON lines from stdin | JSON lines to stdout |
//!
//! A pipeline built in code takes [`Source`](crate::Source) and
//! [`Sink`](crate::Sink) values directly; the registry is how a pipeline
//! *config* names them. Connector crates (Kafka, Kinesis, webhooks) add
//! their types with [`Registry::register_source`] and
//! [`Registry::register_sink`], exactly as a crate outside this repository
//! would: see [writing a connector](crate::guide::connectors).

pub mod file;
pub mod generator;
pub(crate) mod lines;
mod options;
mod registry;
pub mod stdio;

pub use options::ConnectorOptions;
pub use registry::{ConnectorContext, ConnectorError, Registry, SinkConnector, SourceConnector};
