//! The `stdin` source and `stdout` sink: JSON lines.
//!
//! Source options: `key_field` and `timestamp_field` (optional, as for `file`). Sink options: `format`
//! (`value` or `json`, see [`super::file::Format`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::BufReader;

use super::ConnectorContext;
use super::file::Format;
use super::lines::{LineBatcher, LineFields, LineWriter};
use crate::pipeline::ConnectorConfig;
use crate::record::{Batch, Position, Record};
use crate::sink::{Sink, SinkError};
use crate::source::{BatchLimits, Source, SourceError};

/// Reads JSON lines from standard input until it closes.
pub struct StdinSource {
    lines: LineBatcher<BufReader<tokio::io::Stdin>>,
}

impl StdinSource {
    /// A source over this process's stdin.
    pub fn new(fields: LineFields) -> Self {
        StdinSource {
            lines: LineBatcher::new(
                BufReader::new(tokio::io::stdin()),
                "stdin".into(),
                "stdin",
                fields,
            ),
        }
    }
}

#[async_trait]
impl Source for StdinSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        self.lines.next_batch(limits).await
    }

    async fn commit(&mut self, _partition: &str, _position: &Position) -> Result<(), SourceError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "stdin".into()
    }
}

pub(crate) fn build_source(
    config: &ConnectorConfig,
    _ctx: &ConnectorContext<'_>,
) -> Result<Box<dyn Source>, String> {
    let fields: LineFields = config.parse()?;
    Ok(Box::new(StdinSource::new(fields)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkOptions {
    #[serde(default)]
    format: Format,
}

/// Writes JSON lines to standard output.
pub struct StdoutSink {
    lines: LineWriter<tokio::io::Stdout>,
}

impl StdoutSink {
    /// A sink writing in `format`.
    pub fn new(format: Format) -> Self {
        StdoutSink {
            lines: LineWriter::new(tokio::io::stdout(), format, "stdout".into()),
        }
    }
}

#[async_trait]
impl Sink for StdoutSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        self.lines.write(records).await
    }

    fn describe(&self) -> String {
        "stdout".into()
    }
}

pub(crate) fn build_sink(
    _name: &str,
    config: &ConnectorConfig,
    _ctx: &ConnectorContext<'_>,
) -> Result<Arc<dyn Sink>, String> {
    let o: SinkOptions = config.parse()?;
    Ok(Arc::new(StdoutSink::new(o.format)))
}

pub(crate) fn check_source(config: &ConnectorConfig) -> Result<(), String> {
    config.parse::<LineFields>().map(drop)
}

pub(crate) fn check_sink(config: &ConnectorConfig) -> Result<(), String> {
    config.parse::<SinkOptions>().map(drop)
}
