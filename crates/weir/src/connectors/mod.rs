//! Built-in connectors and the registry that maps a config `type` to a
//! connector.
//!
//! | type | source | sink |
//! |---|---|---|
//! | `generator` | synthetic transactions, telemetry or race steps | – |
//! | `file` | JSON lines from a file | JSON lines to a file |
//! | `stdin` / `stdout` | JSON lines from stdin | JSON lines to stdout |
//!
//! Connector crates (Kafka, Kinesis) add their types with
//! [`Registry::register_source`] and [`Registry::register_sink`].

pub mod file;
pub mod generator;
pub(crate) mod lines;
pub mod stdio;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::pipeline::{ConfigError, ConnectorConfig, PipelineConfig};
use crate::sink::Sink;
use crate::source::Source;

/// What a connector factory may look at besides its own options.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorContext<'a> {
    /// The whole pipeline config (for resolving paths and naming errors).
    pub config: &'a PipelineConfig,
    /// The pipeline's data directory.
    pub data_dir: &'a Path,
    /// Where the connector reports its metrics (e.g. consumer lag).
    pub metrics: &'a crate::metrics::Metrics,
}

/// Makes a source from its config; the error message is reported against
/// the `[source]` table.
pub type SourceFactory =
    fn(&ConnectorConfig, &ConnectorContext<'_>) -> Result<Box<dyn Source>, String>;
/// Makes a sink (named `name` in the pipeline) from its config.
pub type SinkFactory =
    fn(name: &str, &ConnectorConfig, &ConnectorContext<'_>) -> Result<Arc<dyn Sink>, String>;

/// Checks a connector's options without opening anything (`weir validate`).
pub type OptionsCheck = fn(&ConnectorConfig) -> Result<(), String>;

/// The connector types a pipeline may use, listed explicitly.
#[derive(Debug, Clone)]
pub struct Registry {
    sources: BTreeMap<String, (SourceFactory, OptionsCheck)>,
    sinks: BTreeMap<String, (SinkFactory, OptionsCheck)>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// The built-in connectors: `generator`, `file`, `stdin`, `stdout`.
    pub fn builtin() -> Self {
        let mut r = Registry {
            sources: BTreeMap::new(),
            sinks: BTreeMap::new(),
        };
        r.register_source(
            "generator",
            generator::build_source,
            generator::check_source,
        );
        r.register_source("file", file::build_source, file::check_source);
        r.register_source("stdin", stdio::build_source, stdio::check_source);
        r.register_sink("file", file::build_sink, file::check_sink);
        r.register_sink("stdout", stdio::build_sink, stdio::check_sink);
        r
    }

    /// Adds (or replaces) a source type.
    pub fn register_source(&mut self, kind: &str, factory: SourceFactory, check: OptionsCheck) {
        self.sources.insert(kind.to_string(), (factory, check));
    }

    /// Adds (or replaces) a sink type.
    pub fn register_sink(&mut self, kind: &str, factory: SinkFactory, check: OptionsCheck) {
        self.sinks.insert(kind.to_string(), (factory, check));
    }

    fn source_entry(
        &self,
        config: &PipelineConfig,
    ) -> Result<&(SourceFactory, OptionsCheck), ConfigError> {
        self.sources.get(&config.source.kind).ok_or_else(|| {
            config.error(
                "source.type",
                format!(
                    "unknown source type `{}` (known: {})",
                    config.source.kind,
                    keys(&self.sources)
                ),
            )
        })
    }

    fn sink_entry(
        &self,
        config: &PipelineConfig,
        name: &str,
        sink: &ConnectorConfig,
    ) -> Result<&(SinkFactory, OptionsCheck), ConfigError> {
        self.sinks.get(&sink.kind).ok_or_else(|| {
            config.error(
                &format!("sinks.{name}.type"),
                format!(
                    "unknown sink type `{}` (known: {})",
                    sink.kind,
                    keys(&self.sinks)
                ),
            )
        })
    }

    /// Checks the source's type and options without opening it.
    pub fn check_source(&self, config: &PipelineConfig) -> Result<(), ConfigError> {
        let (_, check) = self.source_entry(config)?;
        check(&config.source).map_err(|e| option_error(config, "source", e))
    }

    /// Checks a sink's type and options without opening it.
    pub fn check_sink(
        &self,
        config: &PipelineConfig,
        name: &str,
        sink: &ConnectorConfig,
    ) -> Result<(), ConfigError> {
        let (_, check) = self.sink_entry(config, name, sink)?;
        check(sink).map_err(|e| option_error(config, &format!("sinks.{name}"), e))
    }

    /// Builds the source described by `config`.
    pub fn build_source(
        &self,
        config: &ConnectorConfig,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, ConfigError> {
        let (factory, _) = self.source_entry(ctx.config)?;
        factory(config, ctx).map_err(|e| option_error(ctx.config, "source", e))
    }

    /// Builds the sink `name` described by `config`.
    pub fn build_sink(
        &self,
        name: &str,
        config: &ConnectorConfig,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, ConfigError> {
        let (factory, _) = self.sink_entry(ctx.config, name, config)?;
        factory(name, config, ctx)
            .map_err(|e| option_error(ctx.config, &format!("sinks.{name}"), e))
    }
}

/// Reports a connector option error against the offending key when the
/// message names it (`unknown field `x``), else against the whole table.
fn option_error(config: &PipelineConfig, table: &str, message: String) -> ConfigError {
    let field = ["unknown field `", "missing field `"].iter().find_map(|p| {
        let rest = &message[message.find(p)? + p.len()..];
        rest.split('`').next().map(str::to_string)
    });
    match field {
        Some(f) if message.contains("unknown field") => {
            config.error(&format!("{table}.{f}"), message)
        }
        _ => config.error(table, message),
    }
}

fn keys<V>(m: &BTreeMap<String, V>) -> String {
    m.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}
