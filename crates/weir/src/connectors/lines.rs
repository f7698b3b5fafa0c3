//! JSON lines in and out, shared by the file and stdio connectors: cutting
//! input lines into batches, and writing records as lines.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::{Mutex, MutexGuard};

use crate::record::{Batch, Position, Record};
use crate::sink::SinkError;
use crate::source::{BatchLimits, SourceError};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Cuts a stream of lines into batches. Each non-empty line is one record
/// whose value is the line's bytes, untouched (only the line terminator is
/// removed), JSON or not. Positions are 0-based line numbers.
pub(crate) struct LineBatcher<R> {
    reader: R,
    name: String,
    origin: Arc<str>,
    pending: Vec<u8>,
    line: u64,
    key_field: Option<String>,
    eof: bool,
}

impl<R: AsyncBufRead + Unpin + Send> LineBatcher<R> {
    pub(crate) fn new(reader: R, name: String, origin: &str, key_field: Option<String>) -> Self {
        LineBatcher {
            reader,
            name,
            origin: Arc::from(origin),
            pending: Vec::new(),
            line: 0,
            key_field,
            eof: false,
        }
    }

    fn record(&self, mut bytes: Vec<u8>, line: u64) -> Record {
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let key = self.key_field.as_deref().and_then(|f| {
            let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            match v.get(f)? {
                serde_json::Value::String(s) => Some(s.clone().into_bytes()),
                serde_json::Value::Null => None,
                other => Some(other.to_string().into_bytes()),
            }
        });
        let mut r = Record::new(bytes, Position::Offset(line), now_ms());
        r.key = key;
        r
    }

    /// Skips lines up to and including line `last` (0-based).
    pub(crate) async fn skip_through(&mut self, last: u64) -> Result<(), SourceError> {
        while self.line <= last && !self.eof {
            self.pending.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.pending)
                .await
                .map_err(|e| SourceError::new(&self.name, format!("read failed: {e}")))?;
            if n == 0 {
                self.eof = true;
            } else {
                self.line += 1;
            }
            self.pending.clear();
        }
        Ok(())
    }

    pub(crate) async fn next_batch(
        &mut self,
        limits: &BatchLimits,
    ) -> Result<Option<Batch>, SourceError> {
        if self.eof {
            return Ok(None);
        }
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(limits.max_wait_ms);
        while records.len() < limits.max_records && bytes < limits.max_bytes {
            let read = if records.is_empty() {
                // Nothing yet: wait as long as it takes for the first record.
                self.reader.read_until(b'\n', &mut self.pending).await
            } else {
                match tokio::time::timeout_at(
                    deadline,
                    self.reader.read_until(b'\n', &mut self.pending),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => break, // batching window closed; partial bytes stay in `pending`
                }
            };
            let n = read.map_err(|e| SourceError::new(&self.name, format!("read failed: {e}")))?;
            if n == 0 {
                self.eof = true;
                if self.pending.is_empty() {
                    break;
                }
            } else if self.pending.last() != Some(&b'\n') {
                // The last line has no terminator; the next read reports EOF.
                continue;
            }
            let line_no = self.line;
            self.line += 1;
            let raw = std::mem::take(&mut self.pending);
            if !raw.iter().all(u8::is_ascii_whitespace) {
                let record = self.record(raw, line_no);
                bytes += record.size();
                records.push(record);
            }
            if self.eof {
                break;
            }
        }
        if records.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            origin: self.origin.clone(),
            partition: Arc::from("0"),
            records,
        }))
    }
}

/// How a sink writes each record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The value bytes, then a newline.
    #[default]
    Value,
    /// A JSON envelope (see [`crate::pipeline::envelope`]).
    Json,
}

/// Encodes `records` as lines in `format`.
fn encode(records: &[Record], format: Format) -> Vec<u8> {
    let mut buf = Vec::with_capacity(records.iter().map(|r| r.value.len() + 64).sum());
    for r in records {
        match format {
            Format::Value => buf.extend_from_slice(&r.value),
            Format::Json => crate::pipeline::envelope::write_envelope(&mut buf, r),
        }
        buf.push(b'\n');
    }
    buf
}

/// Writes records as lines to `W`; a write is acknowledged once flushed.
pub(crate) struct LineWriter<W> {
    out: Mutex<W>,
    format: Format,
    name: String,
}

impl<W: AsyncWrite + Unpin + Send> LineWriter<W> {
    pub(crate) fn new(out: W, format: Format, name: String) -> Self {
        LineWriter {
            out: Mutex::new(out),
            format,
            name,
        }
    }

    fn err(&self, what: &str, e: &std::io::Error) -> SinkError {
        SinkError::new(&self.name, format!("{what} failed: {e}"))
    }

    /// Writes and flushes `records`.
    pub(crate) async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let buf = encode(records, self.format);
        let mut out = self.out.lock().await;
        out.write_all(&buf)
            .await
            .map_err(|e| self.err("write", &e))?;
        out.flush().await.map_err(|e| self.err("flush", &e))
    }

    /// Flushes and hands out the writer (e.g. to sync a file).
    pub(crate) async fn flushed(&self) -> Result<MutexGuard<'_, W>, SinkError> {
        let mut out = self.out.lock().await;
        out.flush().await.map_err(|e| self.err("flush", &e))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_lines_and_keeps_bytes() -> Result<(), SourceError> {
        let input: &[u8] = b"{\"a\":1,\"id\":\"x\"}\nnot json\r\n\n\xff\xfe\nlast-without-newline";
        let mut b = LineBatcher::new(input, "test".into(), "in", Some("id".into()));
        let limits = BatchLimits {
            max_records: 2,
            ..BatchLimits::default()
        };
        let first = b
            .next_batch(&limits)
            .await?
            .map(|b| b.records)
            .unwrap_or_default();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].key.as_deref(), Some(&b"x"[..]));
        assert_eq!(first[1].value, b"not json");
        let second = b
            .next_batch(&limits)
            .await?
            .map(|b| b.records)
            .unwrap_or_default();
        assert_eq!(second.len(), 2);
        assert_eq!(second[0].value, b"\xff\xfe");
        assert_eq!(second[0].position, Position::Offset(3));
        assert_eq!(second[1].value, b"last-without-newline");
        assert!(b.next_batch(&limits).await?.is_none());
        Ok(())
    }
}
