//! The borrowed per-record view over a columnar batch, and the builder for
//! columnar output.

use crate::bindings::weir::plugin::types::{Batch, Columns};

/// Item `i` of a back-to-back buffer with end offsets `ends`; empty when
/// the offsets are out of range (a malformed batch must not panic).
#[inline]
pub(crate) fn item<'a>(buf: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let Some(&end) = ends.get(i) else { return &[] };
    let start = match i.checked_sub(1) {
        Some(p) => ends.get(p).copied().unwrap_or(0),
        None => 0,
    };
    buf.get(start as usize..end as usize).unwrap_or(&[])
}

/// Appends one record to columnar output.
#[cfg(any(feature = "enricher", feature = "aggregator", test))]
pub(crate) fn push_record<'h>(
    c: &mut Columns,
    key: Option<&[u8]>,
    value: &[u8],
    headers: impl IntoIterator<Item = (&'h [u8], &'h [u8])>,
) {
    c.values.extend_from_slice(value);
    c.value_ends.push(c.values.len() as u32);
    if let Some(k) = key {
        c.keys.extend_from_slice(k);
    }
    c.key_ends.push(c.keys.len() as u32);
    c.has_key.push(u8::from(key.is_some()));
    for (name, value) in headers {
        c.header_data.extend_from_slice(name);
        c.header_data_ends.push(c.header_data.len() as u32);
        c.header_data.extend_from_slice(value);
        c.header_data_ends.push(c.header_data.len() as u32);
    }
    c.header_ends.push((c.header_data_ends.len() / 2) as u32);
}

/// Empty columns with room for `n` records of `bytes` value bytes.
#[cfg(any(feature = "enricher", feature = "aggregator", test))]
pub(crate) fn columns_with_capacity(n: usize, bytes: usize) -> Columns {
    Columns {
        values: Vec::with_capacity(bytes),
        value_ends: Vec::with_capacity(n),
        keys: Vec::new(),
        key_ends: Vec::with_capacity(n),
        has_key: Vec::with_capacity(n),
        header_ends: Vec::with_capacity(n),
        header_data: Vec::new(),
        header_data_ends: Vec::new(),
    }
}

/// Truncates columnar output back to its first `n` records.
#[cfg(any(feature = "enricher", test))]
pub(crate) fn truncate(c: &mut Columns, n: usize) {
    let ends = |v: &Vec<u32>| {
        if n == 0 {
            0
        } else {
            v.get(n - 1).copied().unwrap_or(0) as usize
        }
    };
    let values = ends(&c.value_ends);
    let keys = ends(&c.key_ends);
    let headers = ends(&c.header_ends);
    let header_data = if headers == 0 {
        0
    } else {
        c.header_data_ends
            .get(2 * headers - 1)
            .copied()
            .unwrap_or(0) as usize
    };
    c.values.truncate(values);
    c.value_ends.truncate(n);
    c.keys.truncate(keys);
    c.key_ends.truncate(n);
    c.has_key.truncate(n);
    c.header_ends.truncate(n);
    c.header_data.truncate(header_data);
    c.header_data_ends.truncate(2 * headers);
}

/// The number of records in a batch.
#[inline]
pub(crate) fn len(batch: &Batch) -> usize {
    batch.records.value_ends.len()
}

/// One record of a batch, as plugin code sees it.
///
/// A `Record` borrows the batch: it is a pointer and an index, and none of
/// its accessors allocate. Offsets outside the batch read as empty.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    batch: &'a Batch,
    index: u32,
}

impl<'a> Record<'a> {
    /// The record at `index` of `batch`, or `None` when `index` is out of
    /// range. Plugins normally receive records from the SDK; this is for
    /// plugins that use the raw bindings and for unit tests.
    pub fn at(batch: &'a Batch, index: usize) -> Option<Self> {
        (index < len(batch)).then(|| Self::new(batch, index as u32))
    }

    #[inline]
    pub(crate) fn new(batch: &'a Batch, index: u32) -> Self {
        Self { batch, index }
    }

    #[inline]
    fn i(&self) -> usize {
        self.index as usize
    }

    /// The record key, or `None` when the record has no key (an empty key is
    /// `Some(&[])`).
    #[inline]
    pub fn key(&self) -> Option<&'a [u8]> {
        let c = &self.batch.records;
        match c.has_key.get(self.i()) {
            Some(&1) => Some(item(&c.keys, &c.key_ends, self.i())),
            _ => None,
        }
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
        let c = &self.batch.records;
        item(&c.values, &c.value_ends, self.i())
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
        let c: &'a Columns = &self.batch.records;
        let i = self.i();
        let end = c.header_ends.get(i).copied().unwrap_or(0) as usize;
        let start = match i.checked_sub(1) {
            Some(p) => c.header_ends.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        (start..end.max(start)).map(move |h| {
            (
                item(&c.header_data, &c.header_data_ends, 2 * h),
                item(&c.header_data, &c.header_data_ends, 2 * h + 1),
            )
        })
    }

    /// When the record was produced, in milliseconds since the Unix epoch.
    #[inline]
    pub fn timestamp_ms(&self) -> i64 {
        self.batch.timestamps.get(self.i()).copied().unwrap_or(0)
    }

    /// Where the record sits in its partition or shard (a Kafka offset or a
    /// Kinesis sequence number, as decimal digits). Empty if not UTF-8.
    pub fn position(&self) -> &'a str {
        std::str::from_utf8(item(
            &self.batch.positions,
            &self.batch.position_ends,
            self.i(),
        ))
        .unwrap_or("")
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

/// Builds batches for unit tests of the SDK itself.
#[cfg(test)]
pub(crate) mod test_batch {
    use super::*;

    /// `(key, value, headers)` per record.
    pub(crate) type Spec<'a> = (Option<&'a [u8]>, &'a [u8], Vec<(&'a [u8], &'a [u8])>);

    pub(crate) fn batch(records: &[Spec<'_>]) -> Batch {
        let mut c = columns_with_capacity(records.len(), 0);
        let mut positions = Vec::new();
        let mut position_ends = Vec::new();
        for (i, (key, value, headers)) in records.iter().enumerate() {
            push_record(&mut c, *key, value, headers.iter().copied());
            positions.extend_from_slice(i.to_string().as_bytes());
            position_ends.push(positions.len() as u32);
        }
        Batch {
            origin: "txns".into(),
            partition: "3".into(),
            timestamps: (0..records.len() as i64).map(|t| t + 7).collect(),
            records: c,
            positions,
            position_ends,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_batch::batch;
    use super::*;

    #[test]
    fn reads_fields() {
        let b = batch(&[
            (Some(b"k1"), b"v1", vec![(b"h", b"x"), (b"\xff", b"y")]),
            (None, b"v2", vec![]),
            (Some(b""), b"", vec![(b"a", b"b")]),
        ]);
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
        assert_eq!(r.position(), "0");
        assert_eq!((r.index(), r.origin(), r.partition()), (0, "txns", "3"));
        let r = Record::at(&b, 1).unwrap();
        assert_eq!(
            (r.key(), r.value(), r.headers().count()),
            (None, &b"v2"[..], 0)
        );
        let r = Record::at(&b, 2).unwrap();
        assert_eq!(r.key(), Some(&b""[..]), "an empty key is not a missing key");
        assert_eq!(r.header("a"), Some(&b"b"[..]));
        assert!(Record::at(&b, 3).is_none());
    }

    #[test]
    fn bad_offsets_are_empty() {
        let mut b = batch(&[(Some(b"k"), b"value", vec![(b"h", b"x")])]);
        b.records.value_ends = vec![500];
        b.records.header_ends = vec![9];
        b.position_ends = vec![u32::MAX];
        let r = Record::new(&b, 0);
        assert_eq!(r.value(), b"");
        assert_eq!(
            r.headers().count(),
            9,
            "headers beyond the data read as empty"
        );
        assert!(
            r.raw_headers()
                .skip(1)
                .all(|(n, v)| n.is_empty() && v.is_empty())
        );
        assert_eq!(r.position(), "");
        let r = Record::new(&b, 5);
        assert_eq!((r.key(), r.value(), r.timestamp_ms()), (None, &b""[..], 0));
    }

    #[test]
    fn truncate_drops_whole_records() {
        let mut c = columns_with_capacity(0, 0);
        push_record(&mut c, Some(b"k"), b"one", [(&b"h"[..], &b"1"[..])]);
        push_record(
            &mut c,
            None,
            b"two",
            [(&b"h"[..], &b"2"[..]), (&b"i"[..], &b"3"[..])],
        );
        truncate(&mut c, 1);
        assert_eq!(
            (c.values.as_slice(), c.value_ends.as_slice()),
            (&b"one"[..], &[3][..])
        );
        assert_eq!(
            (c.header_ends.as_slice(), c.header_data.as_slice()),
            (&[1][..], &b"h1"[..])
        );
        assert_eq!(c.header_data_ends, vec![1, 2]);
        truncate(&mut c, 0);
        assert!(c.values.is_empty() && c.header_data.is_empty() && c.has_key.is_empty());
    }
}
