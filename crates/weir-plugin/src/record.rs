//! The borrowed per-record view over a packed batch.

use crate::bindings::weir::plugin::types::{Batch, Entry, Header, Span};

/// Returns the bytes of `span` in `data`, or an empty slice when the span
/// does not lie inside `data` (a malformed batch must not panic).
#[inline]
pub(crate) fn slice(data: &[u8], span: Span) -> &[u8] {
    let start = span.start as usize;
    match start.checked_add(span.len as usize) {
        Some(end) => data.get(start..end).unwrap_or(&[]),
        None => &[],
    }
}

/// One record of a batch, as plugin code sees it.
///
/// A `Record` borrows the batch: it is two pointers and an index, and none
/// of its accessors allocate. Spans that point outside the batch's data are
/// treated as empty.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    batch: &'a Batch,
    entry: &'a Entry,
    index: u32,
}

impl<'a> Record<'a> {
    /// The record at `index` of `batch`, or `None` when `index` is out of
    /// range. Plugins normally receive records from the SDK; this is for
    /// plugins that use the raw bindings and for unit tests.
    pub fn at(batch: &'a Batch, index: usize) -> Option<Self> {
        let entry = batch.entries.get(index)?;
        Some(Self::new(batch, entry, index as u32))
    }

    #[inline]
    pub(crate) fn new(batch: &'a Batch, entry: &'a Entry, index: u32) -> Self {
        Self {
            batch,
            entry,
            index,
        }
    }

    #[inline]
    fn bytes(&self, span: Span) -> &'a [u8] {
        slice(&self.batch.data, span)
    }

    /// The record key, or `None` when the record has no key (an empty key is
    /// `Some(&[])`).
    #[inline]
    pub fn key(&self) -> Option<&'a [u8]> {
        self.entry.key.map(|span| self.bytes(span))
    }

    /// The record key as UTF-8 text; `None` when there is no key or it is
    /// not valid UTF-8.
    #[inline]
    pub fn key_str(&self) -> Option<&'a str> {
        self.key().and_then(|key| std::str::from_utf8(key).ok())
    }

    /// The record value (payload bytes, usually JSON).
    #[inline]
    pub fn value(&self) -> &'a [u8] {
        self.bytes(self.entry.value)
    }

    /// The record value as UTF-8 text, or `None` when it is not valid UTF-8.
    #[inline]
    pub fn value_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.value()).ok()
    }

    /// The value of the first header called `name`, if any.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.raw_headers()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, value)| value)
    }

    /// The record's headers as `(name, value)` pairs, in order. Headers whose
    /// name is not valid UTF-8 are skipped.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + use<'a> {
        self.raw_headers()
            .filter_map(|(name, value)| Some((std::str::from_utf8(name).ok()?, value)))
    }

    /// The record's headers as raw `(name, value)` byte pairs.
    pub(crate) fn raw_headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + use<'a> {
        let data: &'a [u8] = &self.batch.data;
        self.header_entries()
            .iter()
            .map(move |h| (slice(data, h.name), slice(data, h.value)))
    }

    fn header_entries(&self) -> &'a [Header] {
        let first = self.entry.headers_first as usize;
        let count = self.entry.headers_count as usize;
        match first.checked_add(count) {
            Some(end) => self.batch.headers.get(first..end).unwrap_or(&[]),
            None => &[],
        }
    }

    /// When the record was produced, in milliseconds since the Unix epoch.
    #[inline]
    pub fn timestamp_ms(&self) -> i64 {
        self.entry.timestamp_ms
    }

    /// Where the record sits in its partition or shard (a Kafka offset or a
    /// Kinesis sequence number, as decimal digits). Empty if not UTF-8.
    pub fn position(&self) -> &'a str {
        std::str::from_utf8(self.bytes(self.entry.position)).unwrap_or("")
    }

    /// The index of this record in its batch.
    #[inline]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The topic or stream the batch came from.
    #[inline]
    pub fn origin(&self) -> &'a str {
        &self.batch.origin
    }

    /// The partition number or shard id of the batch within its origin.
    #[inline]
    pub fn partition(&self) -> &'a str {
        &self.batch.partition
    }
}

impl std::fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("index", &self.index)
            .field("key", &self.key().map(String::from_utf8_lossy))
            .field("value", &String::from_utf8_lossy(self.value()))
            .field("timestamp_ms", &self.timestamp_ms())
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    fn batch() -> Batch {
        // data: "k1" "v1" "h" "x" "42" | bad spans below
        let data = b"k1v1hx42\xffy".to_vec();
        Batch {
            origin: "txns".into(),
            partition: "3".into(),
            entries: vec![
                Entry {
                    key: Some(span(0, 2)),
                    value: span(2, 2),
                    headers_first: 0,
                    headers_count: 2,
                    timestamp_ms: 7,
                    position: span(6, 2),
                },
                Entry {
                    key: None,
                    value: span(100, 5),
                    headers_first: 5,
                    headers_count: u32::MAX,
                    timestamp_ms: -1,
                    position: span(u32::MAX, u32::MAX),
                },
            ],
            headers: vec![
                Header {
                    name: span(4, 1),
                    value: span(5, 1),
                },
                Header {
                    name: span(8, 1),
                    value: span(9, 1),
                },
            ],
            data,
        }
    }

    #[test]
    fn reads_fields() {
        let b = batch();
        let r = Record::at(&b, 0).unwrap();
        assert_eq!(r.key(), Some(&b"k1"[..]));
        assert_eq!(r.key_str(), Some("k1"));
        assert_eq!(r.value(), b"v1");
        assert_eq!(r.value_str(), Some("v1"));
        assert_eq!(r.header("h"), Some(&b"x"[..]));
        assert_eq!(r.header("nope"), None);
        // The second header has a non-UTF-8 name: skipped by `headers()`.
        assert_eq!(r.headers().collect::<Vec<_>>(), vec![("h", &b"x"[..])]);
        assert_eq!(r.timestamp_ms(), 7);
        assert_eq!(r.position(), "42");
        assert_eq!(r.index(), 0);
        assert_eq!(r.origin(), "txns");
        assert_eq!(r.partition(), "3");
    }

    #[test]
    fn bad_spans_are_empty() {
        let b = batch();
        let r = Record::at(&b, 1).unwrap();
        assert_eq!(r.key(), None);
        assert_eq!(r.value(), b"");
        assert_eq!(r.headers().count(), 0);
        assert_eq!(r.position(), "");
        assert!(Record::at(&b, 2).is_none());
    }
}
