//! The `file` source and sink: JSON lines.
//!
//! Source options: `path` (required, relative to the config file),
//! `key_field` (optional top-level JSON field used as the record key),
//! `timestamp_field` (optional top-level JSON field with the event time in
//! milliseconds since the Unix epoch; default: when the line was read).
//!
//! Sink options: `path` (required), `format` (`value`: the record value as
//! one line, the default; `json`: a JSON envelope with key, value, headers,
//! timestamp, position, score and labels), `append` (default `true`: every
//! run adds to what earlier runs wrote; `false` starts the file over when
//! the pipeline starts over — on its first run or after `weir run --reset`
//! — and appends when it resumes after a checkpoint, so records an earlier
//! run acknowledged are never erased).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::{BufReader, BufWriter};

pub use super::lines::{Format, LineFields};
use super::lines::{LineBatcher, LineWriter};
use super::{ConnectorContext, SinkConnector, SourceConnector};
use crate::record::{Batch, Position, Record};
use crate::sink::{Sink, SinkError};
use crate::source::{BatchLimits, Source, SourceError};

/// Options of the `file` source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    /// The file, relative to the config file. Example: `path = "in.jsonl"`.
    pub path: PathBuf,
    /// See [`LineFields::key_field`].
    #[serde(default)]
    pub key_field: Option<String>,
    /// See [`LineFields::timestamp_field`].
    #[serde(default)]
    pub timestamp_field: Option<String>,
}

/// The `file` connector (source and sink), for a [`Registry`](super::Registry).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileConnector;

/// Reads JSON lines from a file.
pub struct FileSource {
    lines: LineBatcher<BufReader<tokio::fs::File>>,
    path: PathBuf,
}

impl FileSource {
    /// Opens `path`; `fields` name the JSON fields of the key and timestamp.
    pub fn open(path: &Path, fields: LineFields) -> Result<Self, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        let name = format!("file {}", path.display());
        let origin = path.file_name().map_or_else(
            || path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        Ok(FileSource {
            lines: LineBatcher::new(
                BufReader::new(tokio::fs::File::from_std(file)),
                name,
                &origin,
                fields,
            ),
            path: path.to_path_buf(),
        })
    }
}

#[async_trait]
impl Source for FileSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        self.lines.next_batch(limits).await
    }

    async fn resume(&mut self, _partition: &str, position: &Position) -> Result<(), SourceError> {
        match position {
            Position::Offset(line) => self.lines.skip_through(*line).await,
            Position::Sequence(_) => Err(SourceError::new(
                self.describe(),
                format!("cannot resume at `{position}`"),
            )),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

impl SourceConnector for FileConnector {
    type Options = SourceOptions;

    fn build(
        &self,
        o: SourceOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(FileSource::open(
            &ctx.resolve(&o.path),
            LineFields {
                key_field: o.key_field,
                timestamp_field: o.timestamp_field,
            },
        )?))
    }
}

/// Options of the `file` sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkOptions {
    /// The file, relative to the config file; parent directories are made.
    /// Example: `path = "out/alerts.jsonl"`.
    pub path: PathBuf,
    /// `value` (the record value as one line, the default) or `json` (an
    /// envelope with key, value, headers, timestamp, position, score and
    /// labels).
    #[serde(default)]
    pub format: Format,
    /// `true` (the default): every run appends. `false`: the file starts
    /// over when the pipeline does (first run, `--reset`), and is appended
    /// to when the pipeline resumes after a checkpoint.
    #[serde(default = "yes")]
    pub append: bool,
}

fn yes() -> bool {
    true
}

/// Writes JSON lines to a file; a write is acknowledged once flushed.
pub struct FileSink {
    lines: LineWriter<BufWriter<tokio::fs::File>>,
    path: PathBuf,
}

impl FileSink {
    /// Opens `path` for appending (or truncates it when `append` is false),
    /// making parent directories as needed.
    pub fn open(path: &Path, format: Format, append: bool) -> Result<Self, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| format!("cannot open `{}` for writing: {e}", path.display()))?;
        let name = format!("file {}", path.display());
        Ok(FileSink {
            lines: LineWriter::new(
                BufWriter::new(tokio::fs::File::from_std(file)),
                format,
                name,
            ),
            path: path.to_path_buf(),
        })
    }
}

#[async_trait]
impl Sink for FileSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        self.lines.write(records).await
    }

    async fn close(&self) -> Result<(), SinkError> {
        let mut out = self.lines.flushed().await?;
        out.get_mut()
            .sync_all()
            .await
            .map_err(|e| SinkError::new(self.describe(), format!("sync failed: {e}")))
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

impl SinkConnector for FileConnector {
    type Options = SinkOptions;

    fn build(
        &self,
        _name: &str,
        o: SinkOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        // Output acknowledged by an earlier run is never erased.
        let append = o.append || ctx.resuming;
        Ok(Arc::new(FileSink::open(
            &ctx.resolve(&o.path),
            o.format,
            append,
        )?))
    }
}
