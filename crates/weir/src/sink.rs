//! The [`Sink`] extension point: where records go.

use async_trait::async_trait;

use crate::record::{DeadLetter, Record};

/// An error of a sink.
#[derive(Debug, thiserror::Error)]
#[error("sink `{sink}`: {message}")]
pub struct SinkError {
    /// Which sink (its name in the pipeline, or its type and location).
    pub sink: String,
    /// What went wrong.
    pub message: String,
    /// For a partial failure, the indices (into the slice given to
    /// [`Sink::write`]) of the records that were not accepted; the others
    /// were. `None` means no record of the write may be counted as accepted.
    pub failed: Option<Vec<usize>>,
}

impl SinkError {
    /// A new error for `sink`: none of the records were accepted.
    pub fn new(sink: impl Into<String>, message: impl ToString) -> Self {
        SinkError {
            sink: sink.into(),
            message: message.to_string(),
            failed: None,
        }
    }

    /// A partial failure: only the records at indices `failed` were not
    /// accepted, so only they are retried.
    pub fn partial(sink: impl Into<String>, message: impl ToString, failed: Vec<usize>) -> Self {
        SinkError {
            failed: Some(failed),
            ..SinkError::new(sink, message)
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
    /// Writes `records`, returning once they are acknowledged. When only some
    /// were accepted, return [`SinkError::partial`] naming the others: the
    /// runtime retries just those.
    async fn write(&self, records: &[Record]) -> Result<(), SinkError>;

    /// The record this sink writes for a record sent to the failure
    /// destination. The default is [`DeadLetter::to_record`] (the error
    /// context and the original value in a JSON envelope); a sink whose
    /// records carry headers may keep the original bytes as the value and
    /// put the context in headers instead ([`DeadLetter::context_headers`]).
    fn dead_letter(&self, letter: &DeadLetter) -> Record {
        letter.to_record()
    }

    /// Flushes and releases resources; called once at shutdown.
    async fn close(&self) -> Result<(), SinkError> {
        Ok(())
    }

    /// A short description for logs, e.g. `file out/alerts.jsonl`.
    fn describe(&self) -> String;
}
