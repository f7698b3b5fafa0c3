//! JSON lines in and out, shared by the file and stdio connectors: cutting
//! input lines into batches, and writing records as lines.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::{Mutex, MutexGuard};

use crate::record::{Batch, Bytes, Position, Record};
use crate::sink::SinkError;
use crate::source::{BatchLimits, SourceError};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Which top-level JSON fields of a line give the record its key and
/// timestamp (source options `key_field` and `timestamp_field`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineFields {
    /// The field whose value is the record key (strings as they are, other
    /// values as JSON text). Example: `key_field = "card_id"`.
    #[serde(default)]
    pub key_field: Option<String>,
    /// The field holding the record's event time in milliseconds since the
    /// Unix epoch; without it (or when a line lacks it) the time the line
    /// was read. Example: `timestamp_field = "ts"`.
    #[serde(default)]
    pub timestamp_field: Option<String>,
}

/// Cuts a stream of lines into batches. Each non-empty line is one record
/// whose value is the line's bytes, untouched (only the line terminator is
/// removed), JSON or not. Positions are 0-based line numbers.
///
/// Lines are read into one large buffer, and each record's value is a
/// slice of it: no allocation per line.
pub(crate) struct LineBatcher<R> {
    reader: R,
    name: String,
    origin: Arc<str>,
    /// The line being read, at the end of the shared read buffer.
    pending: BytesMut,
    line: u64,
    fields: LineFields,
    /// A record read but left for the next batch (it did not fit).
    held: Option<Record>,
    eof: bool,
}

impl<R: AsyncBufRead + Unpin + Send> LineBatcher<R> {
    pub(crate) fn new(reader: R, name: String, origin: &str, fields: LineFields) -> Self {
        LineBatcher {
            reader,
            name,
            origin: Arc::from(origin),
            pending: BytesMut::new(),
            line: 0,
            fields,
            held: None,
            eof: false,
        }
    }

    fn record(&self, mut bytes: Bytes, line: u64) -> Record {
        let mut end = bytes.len();
        if bytes.last() == Some(&b'\n') {
            end -= 1;
            if end > 0 && bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        bytes.truncate(end);
        let (mut key, mut timestamp) = (None, None);
        if self.fields.key_field.is_some() || self.fields.timestamp_field.is_some() {
            let v: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
            let field = |f: &Option<String>| v.as_ref().and_then(|v| v.get(f.as_deref()?));
            key = match field(&self.fields.key_field) {
                Some(serde_json::Value::String(s)) => Some(Bytes::from(s.clone())),
                None | Some(serde_json::Value::Null) => None,
                Some(other) => Some(Bytes::from(other.to_string())),
            };
            timestamp = field(&self.fields.timestamp_field)
                .and_then(|t| t.as_i64().or_else(|| t.as_f64().map(|f| f as i64)));
        }
        let mut r = Record::new(
            bytes,
            Position::Offset(line),
            timestamp.unwrap_or_else(now_ms),
        );
        r.key = key;
        r
    }

    /// Skips lines up to and including line `last` (0-based).
    pub(crate) async fn skip_through(&mut self, last: u64) -> Result<(), SourceError> {
        while self.line <= last && !self.eof {
            self.pending.clear();
            let n = read_line(&mut self.reader, &mut self.pending)
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
        let mut records = Vec::new();
        let mut bytes = 0usize;
        if let Some(r) = self.held.take() {
            bytes += r.size();
            records.push(r);
        }
        if self.eof && records.is_empty() {
            return Ok(None);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_millis(limits.max_wait_ms);
        while !self.eof && records.len() < limits.max_records {
            let read = if records.is_empty() {
                // Nothing yet: wait as long as it takes for the first record.
                read_line(&mut self.reader, &mut self.pending).await
            } else {
                match tokio::time::timeout_at(
                    deadline,
                    read_line(&mut self.reader, &mut self.pending),
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
            // The line leaves the shared buffer as a slice of it.
            let raw = self.pending.split().freeze();
            if !raw.iter().all(u8::is_ascii_whitespace) {
                let record = self.record(raw, line_no);
                if !limits.admits(records.len(), bytes, record.size()) {
                    self.held = Some(record);
                    break;
                }
                bytes += record.size();
                records.push(record);
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

/// The shared read buffer grows by this much when it runs low.
const READ_BUFFER: usize = 64 * 1024;

/// Appends the bytes up to and including the next newline (or to the end of
/// the input) to `buf`; returns how many (0 at the end). Safe to cancel:
/// what was read stays in `buf`.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(read);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.capacity() - buf.len() < take {
            buf.reserve(take.max(READ_BUFFER));
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        read += take;
        if done {
            return Ok(read);
        }
    }
}

/// How a sink writes each record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The value bytes, then a newline.
    #[default]
    Value,
    /// A JSON envelope (see [`crate::envelope`]).
    Json,
}

/// Encodes `records` as lines in `format`.
fn encode(records: &[Record], format: Format) -> Vec<u8> {
    let mut buf = Vec::with_capacity(records.iter().map(|r| r.value.len() + 64).sum());
    for r in records {
        match format {
            Format::Value => buf.extend_from_slice(&r.value),
            Format::Json => crate::envelope::write_envelope(&mut buf, r),
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
        let input: &[u8] =
            b"{\"a\":1,\"id\":\"x\",\"ts\":42}\nnot json\r\n\n\xff\xfe\nlast-without-newline";
        let fields = LineFields {
            key_field: Some("id".into()),
            timestamp_field: Some("ts".into()),
        };
        let mut b = LineBatcher::new(input, "test".into(), "in", fields);
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
        assert_eq!(first[0].timestamp_ms, 42);
        assert!(
            first[1].timestamp_ms > 42,
            "no timestamp field: the time read"
        );
        assert_eq!(first[1].value, &b"not json"[..]);
        let second = b
            .next_batch(&limits)
            .await?
            .map(|b| b.records)
            .unwrap_or_default();
        assert_eq!(second.len(), 2);
        assert_eq!(second[0].value, &b"\xff\xfe"[..]);
        assert_eq!(second[0].position, Position::Offset(3));
        assert_eq!(second[1].value, &b"last-without-newline"[..]);
        // Values are slices of one read buffer: consecutive lines sit side
        // by side, one newline apart.
        let (v3, v4) = (&second[0].value, &second[1].value);
        assert_eq!(v4.as_ptr() as usize, v3.as_ptr() as usize + v3.len() + 1);
        assert!(b.next_batch(&limits).await?.is_none());
        Ok(())
    }

    #[tokio::test]
    async fn a_record_that_would_overflow_max_bytes_waits_for_the_next_batch()
    -> Result<(), SourceError> {
        let input: &[u8] = b"aaaa\nbbbb\ncccccccccc\nd\n";
        let mut b = LineBatcher::new(input, "test".into(), "in", LineFields::default());
        let limits = BatchLimits {
            max_bytes: 9,
            ..BatchLimits::default()
        };
        let mut sizes = Vec::new();
        while let Some(batch) = b.next_batch(&limits).await? {
            sizes.push(
                batch
                    .records
                    .iter()
                    .map(|r| r.value.len())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(sizes, vec![vec![4, 4], vec![10], vec![1]]);
        Ok(())
    }
}
