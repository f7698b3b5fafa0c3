//! # Writing a connector
//!
//! A connector is a source or a sink type that pipeline configs can name
//! (`[source] type = "..."`, `[sinks.NAME] type = "..."`). weir's own
//! `file`, `generator`, `kafka`, `kinesis` and `webhook` connectors are
//! written exactly as one in another crate would be:
//!
//! 1. the runtime side: a type implementing [`Source`](crate::Source) (yield
//!    batches of one partition in order; optionally `resume` after weir's
//!    checkpoint, and pass the safe positions that arrive on the
//!    [`Acks`](crate::Acks) handle given to `open` on to the service) or
//!    [`Sink`](crate::Sink)
//!    (`write` returns once every record is durably accepted, or names the
//!    ones that were not with [`SinkError::partial`](crate::SinkError::partial));
//! 2. the config side: a connector value implementing
//!    [`SourceConnector`](crate::connectors::SourceConnector) or
//!    [`SinkConnector`](crate::connectors::SinkConnector), with a typed
//!    `Options` struct (serde, `deny_unknown_fields`, a doc comment per
//!    field). The options are parsed once; `check` validates them without
//!    opening anything (`weir validate`), `build` opens the source or sink;
//! 3. a `register` function that adds the types to a
//!    [`Registry`](crate::connectors::Registry).
//!
//! Errors a connector returns are reported against the config file: an
//! unknown option against its own key and line, anything else against the
//! connector's table.
//!
//! A sink that can start its output over (truncate a file, recreate a
//! table) may do so only when
//! [`ConnectorContext::resuming`](crate::connectors::ConnectorContext::resuming)
//! is `false`: when the pipeline resumes, what earlier runs wrote was
//! acknowledged and must stay.
//!
//! ## A complete example
//!
//! A `lines` sink that appends each record's value to a file, and a run of
//! a config that names it:
//!
//! ```
//! use std::path::PathBuf;
//! use std::sync::Arc;
//!
//! use weir::connectors::{ConnectorContext, Registry, SinkConnector};
//! use weir::metrics::Metrics;
//! use weir::pipeline::{Pipeline, PipelineConfig};
//! use weir::plugin::Engine;
//! use weir::{Record, Sink, SinkError};
//!
//! /// The connector: `type = "lines"`.
//! struct Lines;
//!
//! /// Its options.
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct LinesOptions {
//!     /// The file, relative to the config. Example: `path = "out.txt"`.
//!     path: PathBuf,
//! }
//!
//! impl SinkConnector for Lines {
//!     type Options = LinesOptions;
//!
//!     fn build(
//!         &self,
//!         name: &str,
//!         options: LinesOptions,
//!         ctx: &ConnectorContext<'_>,
//!     ) -> Result<Arc<dyn Sink>, String> {
//!         Ok(Arc::new(LinesSink {
//!             name: name.to_string(),
//!             path: ctx.resolve(&options.path),
//!         }))
//!     }
//! }
//!
//! /// The sink itself.
//! struct LinesSink {
//!     name: String,
//!     path: PathBuf,
//! }
//!
//! #[async_trait::async_trait]
//! impl Sink for LinesSink {
//!     async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
//!         use std::io::Write as _;
//!         let mut text = Vec::new();
//!         for r in records {
//!             text.extend_from_slice(&r.value);
//!             text.push(b'\n');
//!         }
//!         // Acknowledge only what is on disk.
//!         let mut file = std::fs::OpenOptions::new()
//!             .create(true)
//!             .append(true)
//!             .open(&self.path)
//!             .map_err(|e| SinkError::new(&self.name, e))?;
//!         file.write_all(&text).map_err(|e| SinkError::new(&self.name, e))?;
//!         file.sync_data().map_err(|e| SinkError::new(&self.name, e))
//!     }
//!
//!     fn describe(&self) -> String {
//!         format!("lines {}", self.path.display())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut registry = Registry::builtin();
//! registry.register_sink("lines", Lines);
//!
//! let config = PipelineConfig::from_str(
//!     r#"
//!     name = "example"
//!     [source]
//!     type = "generator"
//!     count = 100
//!     [sinks.out]
//!     type = "lines"
//!     path = "out.txt"
//!     "#,
//!     "example.toml",
//!     dir.path(),
//! )?;
//! let pipeline = Pipeline::build(&config, &Engine::new()?, &registry, Metrics::new())?;
//! let summary = pipeline.run(std::future::pending()).await?;
//! assert_eq!(summary.written["out"], 100);
//! assert_eq!(std::fs::read_to_string(dir.path().join("out.txt"))?.lines().count(), 100);
//! # Ok(()) }
//! ```
//!
//! `examples/custom-connector` in the repository is the same as a crate of
//! its own, with a source, and tests that a TOML pipeline uses it.
