//! A connector crate outside weir, written the way `weir-kafka` is: a
//! `counter` source (the numbers `0..count` as JSON records) and a `csv`
//! sink (one `position,value` line per record), each with typed options,
//! added to a [`Registry`] by [`register`]. A pipeline config then names
//! them:
//!
//! ```toml
//! [source]
//! type = "counter"
//! count = 1000
//!
//! [sinks.out]
//! type = "csv"
//! path = "out.csv"
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Mutex;
use weir::connectors::{ConnectorContext, Registry, SinkConnector, SourceConnector};
use weir::{Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

/// Adds the `counter` source and the `csv` sink to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register_source("counter", Counter);
    registry.register_sink("csv", Csv);
}

/// The `counter` source type.
#[derive(Debug, Clone, Copy)]
pub struct Counter;

/// Options of a `counter` source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterOptions {
    /// How many records: `0..count`. Example: `count = 1000`.
    pub count: u64,
    /// Partition name. Default: `"0"`.
    #[serde(default = "zero")]
    pub partition: String,
}

fn zero() -> String {
    "0".into()
}

impl SourceConnector for Counter {
    type Options = CounterOptions;

    fn check(&self, options: &CounterOptions) -> Result<(), String> {
        if options.count == 0 {
            return Err("`count` must be at least 1".into());
        }
        Ok(())
    }

    fn build(
        &self,
        options: CounterOptions,
        _ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(CounterSource { next: 0, options }))
    }
}

/// Counts from 0; resumes after a checkpoint.
pub struct CounterSource {
    next: u64,
    options: CounterOptions,
}

#[async_trait]
impl Source for CounterSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.next >= self.options.count {
            return Ok(None);
        }
        let end = self
            .options
            .count
            .min(self.next.saturating_add(limits.max_records as u64));
        let records = (self.next..end)
            .map(|i| Record::new(format!("{{\"n\":{i}}}"), Position::Offset(i), 0))
            .collect();
        self.next = end;
        Ok(Some(Batch::new(
            "counter",
            self.options.partition.as_str(),
            records,
        )))
    }

    async fn resume(&mut self, _partition: &str, position: &Position) -> Result<(), SourceError> {
        match position {
            Position::Offset(o) => {
                self.next = o.saturating_add(1);
                Ok(())
            }
            Position::Sequence(s) => Err(SourceError::new(
                self.describe(),
                format!("cannot resume at `{s}`"),
            )),
        }
    }

    fn describe(&self) -> String {
        format!("counter {}", self.options.partition)
    }
}

/// The `csv` sink type.
#[derive(Debug, Clone, Copy)]
pub struct Csv;

/// Options of a `csv` sink.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// The file, relative to the pipeline config. Example: `path = "out.csv"`.
    pub path: PathBuf,
}

impl SinkConnector for Csv {
    type Options = CsvOptions;

    fn build(
        &self,
        name: &str,
        options: CsvOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        let path = ctx.resolve(&options.path);
        // Starting over truncates; a resumed run keeps what was written.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(ctx.resuming)
            .write(true)
            .truncate(!ctx.resuming)
            .open(&path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        Ok(Arc::new(CsvSink {
            name: name.to_string(),
            path,
            file: Mutex::new(tokio::fs::File::from_std(file)),
        }))
    }
}

/// Writes `position,value` lines.
pub struct CsvSink {
    name: String,
    path: PathBuf,
    file: Mutex<tokio::fs::File>,
}

#[async_trait]
impl Sink for CsvSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let mut text = Vec::new();
        for r in records {
            text.extend_from_slice(format!("{},", r.position).as_bytes());
            text.extend_from_slice(&r.value);
            text.push(b'\n');
        }
        let mut file = self.file.lock().await;
        file.write_all(&text)
            .await
            .map_err(|e| SinkError::new(&self.name, e))?;
        file.flush()
            .await
            .map_err(|e| SinkError::new(&self.name, e))
    }

    fn describe(&self) -> String {
        format!("csv {}", self.path.display())
    }
}
