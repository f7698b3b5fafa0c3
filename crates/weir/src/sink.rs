//! The [`Sink`] extension point: where records go.

use async_trait::async_trait;

use crate::record::Record;

/// An error of a sink.
#[derive(Debug, thiserror::Error)]
#[error("sink `{sink}`: {message}")]
pub struct SinkError {
    /// Which sink (its name in the pipeline, or its type and location).
    pub sink: String,
    /// What went wrong.
    pub message: String,
}

impl SinkError {
    /// A new error for `sink`.
    pub fn new(sink: impl Into<String>, message: impl ToString) -> Self {
        SinkError {
            sink: sink.into(),
            message: message.to_string(),
        }
    }
}

/// Where records go: files, stdout, Kafka, Kinesis, webhooks.
///
/// [`Sink::write`] returns only when the sink has durably accepted every
/// record it was given: that return is the acknowledgement the runtime waits
/// for before it lets the source commit past those records. Sinks are shared
/// between concurrent batches, so methods take `&self`.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Writes `records`, returning once they are acknowledged.
    async fn write(&self, records: &[Record]) -> Result<(), SinkError>;

    /// Flushes and releases resources; called once at shutdown.
    async fn close(&self) -> Result<(), SinkError> {
        Ok(())
    }

    /// A short description for logs, e.g. `file out/alerts.jsonl`.
    fn describe(&self) -> String;
}
