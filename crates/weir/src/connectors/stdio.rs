//! The `stdin` source and `stdout` sink: JSON lines.
//!
//! Source options: `key_field` and `timestamp_field` (optional, as for `file`). Sink options: `format`
//! (`value` or `json`, see [`super::file::Format`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::BufReader;

use super::file::Format;
use super::lines::{LineBatcher, LineFields, LineWriter};
use super::{ConnectorContext, SinkConnector, SourceConnector};
use crate::record::{Batch, Record};
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

    fn describe(&self) -> String {
        "stdin".into()
    }
}

/// The `stdin` source and `stdout` sink, for a [`Registry`](super::Registry).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdioConnector;

impl SourceConnector for StdioConnector {
    type Options = LineFields;

    fn build(
        &self,
        fields: LineFields,
        _ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(StdinSource::new(fields)))
    }
}

/// Options of the `stdout` sink.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkOptions {
    /// `value` (the default) or `json`; see [`Format`].
    #[serde(default)]
    pub format: Format,
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

impl SinkConnector for StdioConnector {
    type Options = SinkOptions;

    fn build(
        &self,
        _name: &str,
        o: SinkOptions,
        _ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        Ok(Arc::new(StdoutSink::new(o.format)))
    }
}
