//! # weir
//!
//! weir pulls records from a stream (Kafka, Kinesis, files, stdin or a
//! built-in generator), runs them through sandboxed WebAssembly component
//! plugins — filters, enrichers, scorers, reward functions, window
//! aggregators — and sends what they produce to sinks. This crate is the
//! whole runtime as a library: the plugin engine, the pipeline runtime, the
//! built-in connectors and the state store. The `weir` binary and the Kafka/Kinesis connector crates sit
//! on top of it.
//!
//! ## Call a plugin directly
//!
//! ```no_run
//! use weir::plugin::{Engine, Grants, InstanceOptions};
//! use weir::{Batch, Position, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let plugin = engine.load_file("fraud_scorer.wasm".as_ref(), Grants::default())?;
//! let mut scorer = plugin.instantiate(InstanceOptions::default())?;
//! let tx = br#"{"txn_id":"t-1","card_id":"c-1","amount":12.5,"country":"DE","ts":0}"#;
//! let out = scorer
//!     .process(Batch::new("tx", "0", vec![Record::new(tx.to_vec(), Position::Offset(0), 0)]))
//!     .map_err(|f| f.error)?;
//! println!("score {:?} labels {:?}", out.records[0].score, out.records[0].labels);
//! # Ok(()) }
//! ```
//!
//! ## Build a pipeline in code
//!
//! Any [`Source`] and [`Sink`] of your own (here weir's generator and file
//! sink), plugin stages, routes and a failure destination:
//!
//! ```no_run
//! use weir::connectors::file::{FileSink, Format};
//! use weir::connectors::generator::{GeneratorSource, Workload};
//! use weir::pipeline::{Condition, Pipeline, Route, Stage};
//! use weir::plugin::{Engine, Grants};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let scorer = engine.load_file("fraud_scorer.wasm".as_ref(), Grants::default())?;
//! let pipeline = Pipeline::builder("fraud")
//!     .source(GeneratorSource::new(Workload::Transactions, 42, 20_000, 0.0))
//!     .stage(Stage::new("score", scorer))
//!     .sink("alerts", FileSink::open("alerts.jsonl".as_ref(), Format::Json, true)?)
//!     .sink("failed", FileSink::open("failed.jsonl".as_ref(), Format::Value, true)?)
//!     .route(Route::when("alerts", Condition::parse("score >= 0.7")?))
//!     .on_failure("failed")
//!     .data_dir(".weir/fraud")
//!     .build()?;
//! let summary = pipeline.run(std::future::pending()).await?;
//! println!("{} records in, {} alerts", summary.records_in, summary.written["alerts"]);
//! # Ok(()) }
//! ```
//!
//! A pipeline config file drives the same builder:
//! [`Pipeline::build`](pipeline::Pipeline::build) opens the connectors it
//! names through a [`connectors::Registry`] (see
//! [writing a connector](guide::connectors)).
//!
//! ## Reload plugins while records flow
//!
//! A [`PipelineControl`](pipeline::PipelineControl), taken before the
//! pipeline runs, reloads a stage's plugin, rolls it back, pauses the
//! pipeline, shadows a candidate version, and shows the last errors and
//! dead letters, from any thread. A new version is loaded and started away
//! from the workers (as many instances as the serving version uses, each
//! warmed by one call over a few records the stage saw lately, with a
//! throwaway state and its logs and metrics dropped, so the first batch
//! after the swap does not pay for a cold instance), checked against the
//! stage's sample records
//! ([`Stage::check`](pipeline::Stage::check)), and swapped in between
//! calls: every record is processed by exactly one version, and a version
//! that fails to load, start or pass the check is never served. A stage
//! can watch its plugin file ([`Stage::watch`](pipeline::Stage::watch));
//! [`admin`] serves all of it as an HTTP JSON API.
//!
//! ## Operations
//!
//! Every pipeline counts what it does in [`metrics`] (every name in
//! [`metrics::names`]), samples its own series once a second ([`monitor`]:
//! throughput, error ratio, plugin latency, lag…) and raises alarms over
//! them: static thresholds, or a band of normal values learnt by the
//! [`weir_anomaly`] detector. [`admin`] serves the
//! metrics, the series, the alarms and a live dashboard.
//!
//! ```no_run
//! use weir::connectors::generator::{GeneratorSource, Workload};
//! use weir::connectors::file::Format;
//! use weir::connectors::stdio::StdoutSink;
//! use weir::pipeline::{Pipeline, Stage};
//! use weir::plugin::{Engine, Grants};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let v1 = engine.load_file("filter-v1.wasm".as_ref(), Grants::default())?;
//! let pipeline = Pipeline::builder("tx")
//!     .source(GeneratorSource::new(Workload::Transactions, 1, 1_000_000, 5_000.0))
//!     .stage(Stage::new("filter", v1).setting("min_amount", "100").tag_version(true))
//!     .sink("out", StdoutSink::new(Format::Json))
//!     .data_dir(".weir/tx")
//!     .build()?;
//! let control = pipeline.control();
//! let running = tokio::spawn(pipeline.run(std::future::pending()));
//! let v2 = engine.load_file("filter-v2.wasm".as_ref(), Grants::default())?;
//! let status = tokio::task::spawn_blocking(move || control.reload("filter", v2)).await??;
//! println!("filter now serves version {} ({})", status.version, status.digest);
//! running.await??;
//! # Ok(()) }
//! ```
//!
//! ## Concepts
//!
//! - **Plugins** are WebAssembly components implementing one world of the
//!   `weir:plugin@0.2.0` WIT package (`wit/` in the repository): `filter`,
//!   `enricher`, `scorer`, `reward` or `aggregator` (event-time windows:
//!   the host keeps the windows, the plugin folds records into their
//!   accumulators and turns closed windows into records). The host detects the world from the
//!   component's exports and refuses other versions. Each call takes a whole
//!   batch in a columnar form (each field one list of bytes or integers), so the
//!   boundary cost is paid per batch, not per record; filters, enrichers and
//!   scorers that also export the `packed-*-plugin` interface (all built
//!   with the Rust SDK do) get the batch as one buffer, one copy and one
//!   allocation in the plugin per call. Plugins import only
//!   `log`, `metrics`, `state` and `config`; WASI is linked only when a stage
//!   grants it, and every instance has a call deadline (epoch interruption)
//!   and a memory cap. A trap fails the call, never the host: the instance
//!   is discarded and recreated from the pre-instantiated component in
//!   microseconds. See [`plugin`].
//! - **Sources** ([`Source`]) yield batches per partition; **sinks**
//!   ([`Sink`]) acknowledge what they durably wrote. A source position is
//!   committed only after every sink acknowledged every record up to it, and
//!   after the plugins' state changes for those records were persisted:
//!   delivery is at-least-once, and a restart repeats at most the
//!   unacknowledged tail.
//! - **Batches and lanes**: a source hands over a batch of one partition
//!   when `max_records`, `max_bytes` or the `max_wait_ms` batching window
//!   is reached. With `parallelization_factor = N` each partition's batches
//!   are split by key hash into N lanes processed concurrently: records of
//!   one key stay in order, and a partition's checkpoint only moves over
//!   batches whose every lane is done.
//! - **Memory bound**: at most `max_in_flight_mb` (default 64) MiB of
//!   records are read and not yet written by every sink; past it the
//!   source is not read until a batch is done, so a slow sink slows the
//!   source instead of growing memory (gauge `weir_in_flight_bytes`).
//! - **Failures** (see [`pipeline::ErrorsConfig`]): a plugin call that traps
//!   is retried with backoff (`max_retries`), or split in halves until the
//!   failing records are alone (`bisect_on_error`); records a plugin fails
//!   one by one fail alone (partial batch failure); records older than
//!   `max_record_age` skip the stages. All of them go to the failure
//!   destination (any sink) with their error, stage, plugin name and
//!   version, source position and attempt count, and the partition moves
//!   on. A failed call's state writes are rolled back before its retry.
//! - **Routes** send outputs to named sinks by rule (`score >= 0.9`,
//!   `label == "velocity"`, `header.NAME == "v"`, `otherwise`); a record
//!   goes to every sink whose rule it matches.
//! - **Windows**: an aggregator stage keeps event-time tumbling windows per
//!   key or per partition (`window = { size = "60s" }`); open windows are
//!   stage state, committed with the checkpoint, and close when the
//!   partition's newest timestamp passes their end.
//! - **State**: each plugin has a key-value namespace in an embedded store
//!   ([`state`]) under the pipeline's data directory; it survives restarts.
//!
//! ## Connectors in this crate
//!
//! | type | source | sink |
//! |---|---|---|
//! | `generator` | yes: `transactions`, `telemetry`, `race` | – |
//! | `file` | JSON lines | JSON lines (`value` or `json` envelope) |
//! | `stdin` / `stdout` | JSON lines | JSON lines |
//!
//! Kafka and Kinesis live in the `weir-kafka` and `weir-kinesis` crates so
//! that embedding the engine does not compile their clients.

#![deny(missing_docs)]

pub mod admin;
pub mod check;
pub mod connectors;
#[doc(hidden)]
pub mod fuzzing;
pub mod guide;
pub mod metrics;
pub mod monitor;
pub mod pattern;
pub mod pipeline;
pub mod plugin;
mod record;
mod sink;
mod source;
pub mod state;

pub use record::{Batch, Bytes, DeadLetter, Header, NotADeadLetter, Position, Record, envelope};
pub use sink::{Sink, SinkError};
pub use source::{Acks, BatchLimits, PartitionBatcher, Source, SourceError};
