//! The `file` source and sink: JSON lines.
//!
//! Source options: `path` (required, relative to the config file),
//! `key_field` (optional top-level JSON field used as the record key),
//! `timestamp_field` (optional top-level JSON field with the event time in
//! milliseconds since the Unix epoch; default: when the line was read).
//!
//! Sink options: `path` (required), `format` (`value`: the record value as
//! one line, the default; `json`: a JSON envelope with key, value, headers,
//! timestamp, position, score and labels), `append` (default `true`: a
//! pipeline that resumes from its checkpoint adds to what earlier runs
//! wrote; `false` truncates the file when the pipeline starts).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::{BufReader, BufWriter};

use super::ConnectorContext;
pub use super::lines::{Format, LineFields};
use super::lines::{LineBatcher, LineWriter};
use crate::pipeline::ConnectorConfig;
use crate::record::{Batch, Position, Record};
use crate::sink::{Sink, SinkError};
use crate::source::{BatchLimits, Source, SourceError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceOptions {
    path: PathBuf,
    #[serde(default)]
    key_field: Option<String>,
    #[serde(default)]
    timestamp_field: Option<String>,
}

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

    async fn commit(&mut self, _partition: &str, _position: &Position) -> Result<(), SourceError> {
        Ok(())
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

pub(crate) fn build_source(
    config: &ConnectorConfig,
    ctx: &ConnectorContext<'_>,
) -> Result<Box<dyn Source>, String> {
    let o: SourceOptions = config.parse()?;
    Ok(Box::new(FileSource::open(
        &ctx.config.resolve(&o.path),
        LineFields {
            key_field: o.key_field,
            timestamp_field: o.timestamp_field,
        },
    )?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkOptions {
    path: PathBuf,
    #[serde(default)]
    format: Format,
    #[serde(default = "yes")]
    append: bool,
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

pub(crate) fn build_sink(
    _name: &str,
    config: &ConnectorConfig,
    ctx: &ConnectorContext<'_>,
) -> Result<Arc<dyn Sink>, String> {
    let o: SinkOptions = config.parse()?;
    Ok(Arc::new(FileSink::open(
        &ctx.config.resolve(&o.path),
        o.format,
        o.append,
    )?))
}

pub(crate) fn check_source(config: &ConnectorConfig) -> Result<(), String> {
    config.parse::<SourceOptions>().map(drop)
}

pub(crate) fn check_sink(config: &ConnectorConfig) -> Result<(), String> {
    config.parse::<SinkOptions>().map(drop)
}
