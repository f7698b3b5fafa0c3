//! Packing records into the columnar WIT batch, and reading results back.

use super::bindings::types::{Batch as WitBatch, Entry, Header as WitHeader, RecordError, Span};
use crate::record::{Header, Record};

/// Reusable buffers for building WIT batches without per-call allocation.
#[derive(Debug, Default)]
pub(crate) struct BatchBuffers {
    entries: Vec<Entry>,
    headers: Vec<WitHeader>,
    data: Vec<u8>,
    position: String,
}

fn push(data: &mut Vec<u8>, bytes: &[u8]) -> Span {
    let start = data.len() as u32;
    data.extend_from_slice(bytes);
    Span {
        start,
        len: bytes.len() as u32,
    }
}

impl BatchBuffers {
    /// Packs `records` into a WIT batch. Call [`BatchBuffers::recycle`] with
    /// the batch after the call to keep the buffers.
    pub(crate) fn pack(&mut self, origin: &str, partition: &str, records: &[Record]) -> WitBatch {
        use std::fmt::Write as _;
        let mut entries = std::mem::take(&mut self.entries);
        let mut headers = std::mem::take(&mut self.headers);
        let mut data = std::mem::take(&mut self.data);
        entries.clear();
        headers.clear();
        data.clear();
        data.reserve(records.iter().map(|r| r.size() + 20).sum());
        for r in records {
            let key = r.key.as_deref().map(|k| push(&mut data, k));
            let value = push(&mut data, &r.value);
            let headers_first = headers.len() as u32;
            for h in &r.headers {
                let name = push(&mut data, h.name.as_bytes());
                let value = push(&mut data, &h.value);
                headers.push(WitHeader { name, value });
            }
            self.position.clear();
            let _ = write!(self.position, "{}", r.position);
            let position = push(&mut data, self.position.as_bytes());
            entries.push(Entry {
                key,
                value,
                headers_first,
                headers_count: r.headers.len() as u32,
                timestamp_ms: r.timestamp_ms,
                position,
            });
        }
        WitBatch {
            origin: origin.to_string(),
            partition: partition.to_string(),
            entries,
            headers,
            data,
        }
    }

    /// Takes the buffers of a batch back for the next call.
    pub(crate) fn recycle(&mut self, batch: WitBatch) {
        self.entries = batch.entries;
        self.headers = batch.headers;
        self.data = batch.data;
    }
}

/// Bytes of `span` in `data`, or an error naming what is out of range.
pub(crate) fn slice<'a>(data: &'a [u8], span: Span, what: &str) -> Result<&'a [u8], String> {
    let start = span.start as usize;
    let end = start.checked_add(span.len as usize);
    match end {
        Some(end) if end <= data.len() => Ok(&data[start..end]),
        _ => Err(format!(
            "{what} span {}+{} is outside the {}-byte data buffer",
            span.start,
            span.len,
            data.len()
        )),
    }
}

/// Reads `count` headers starting at `first` from a result's header list.
pub(crate) fn headers_of(
    data: &[u8],
    headers: &[WitHeader],
    first: u32,
    count: u32,
) -> Result<Vec<Header>, String> {
    let first = first as usize;
    let end = first
        .checked_add(count as usize)
        .filter(|e| *e <= headers.len())
        .ok_or_else(|| {
            format!(
                "headers {first}+{count} outside the {} returned",
                headers.len()
            )
        })?;
    headers[first..end]
        .iter()
        .map(|h| {
            let name = slice(data, h.name, "header name")?;
            let name = std::str::from_utf8(name)
                .map_err(|_| "header name is not UTF-8".to_string())?
                .to_string();
            Ok(Header {
                name,
                value: slice(data, h.value, "header value")?.to_vec(),
            })
        })
        .collect()
}

/// Validates per-record errors against the batch size.
pub(crate) fn record_errors(
    errors: Vec<RecordError>,
    len: usize,
) -> Result<Vec<(usize, String)>, String> {
    errors
        .into_iter()
        .map(|e| {
            let i = e.index as usize;
            if i < len {
                Ok((i, e.message))
            } else {
                Err(format!(
                    "error for record {i}, but the batch has {len} records"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Position;

    #[test]
    fn packs_into_one_buffer() -> Result<(), String> {
        let mut b = BatchBuffers::default();
        let records = vec![
            Record::new(b"{\"a\":1}".to_vec(), Position::Offset(7), 1).with_key(b"k".to_vec()),
            Record::new(b"v2".to_vec(), Position::Offset(8), 2).with_header("h", b"x".to_vec()),
        ];
        let batch = b.pack("topic", "0", &records);
        assert_eq!(batch.entries.len(), 2);
        let e0 = &batch.entries[0];
        assert_eq!(slice(&batch.data, e0.value, "v")?, b"{\"a\":1}");
        assert_eq!(
            e0.key.map(|k| slice(&batch.data, k, "k")).transpose()?,
            Some(&b"k"[..])
        );
        assert_eq!(slice(&batch.data, e0.position, "p")?, b"7");
        let e1 = &batch.entries[1];
        assert!(e1.key.is_none());
        let hs = headers_of(
            &batch.data,
            &batch.headers,
            e1.headers_first,
            e1.headers_count,
        )?;
        assert_eq!(hs[0].name, "h");
        b.recycle(batch);
        Ok(())
    }

    #[test]
    fn rejects_bad_spans() {
        assert!(slice(b"abc", Span { start: 2, len: 5 }, "v").is_err());
        assert!(
            slice(
                b"abc",
                Span {
                    start: u32::MAX,
                    len: u32::MAX
                },
                "v"
            )
            .is_err()
        );
    }
}
