//! The borrowed per-record view over a batch, columnar or packed, and the
//! builder for columnar output.

use crate::bindings::weir::plugin::types::{Batch, Columns};

/// A list of end offsets (or timestamps), as the plugin received it: a
/// `list<u32>` of the columnar batch, or little-endian words in a packed one.
#[derive(Clone, Copy)]
pub(crate) enum Words<'a, T> {
    Native(&'a [T]),
    Le(&'a [u8]),
}

/// A fixed-size little-endian integer read out of a packed batch.
pub(crate) trait Le: Copy {
    const SIZE: usize;
    fn read(bytes: &[u8]) -> Option<Self>;
}

impl Le for u32 {
    const SIZE: usize = 4;
    #[inline]
    fn read(bytes: &[u8]) -> Option<Self> {
        bytes.first_chunk().map(|b| u32::from_le_bytes(*b))
    }
}

impl Le for i64 {
    const SIZE: usize = 8;
    #[inline]
    fn read(bytes: &[u8]) -> Option<Self> {
        bytes.first_chunk().map(|b| i64::from_le_bytes(*b))
    }
}

impl<T: Le> Words<'_, T> {
    #[inline]
    fn get(&self, i: usize) -> Option<T> {
        match self {
            Words::Native(v) => v.get(i).copied(),
            Words::Le(b) => T::read(b.get(i.checked_mul(T::SIZE)?..)?),
        }
    }
}

pub(crate) type Ends<'a> = Words<'a, u32>;

/// Item `i` of a back-to-back buffer with end offsets `ends`; empty when
/// the offsets are out of range (a malformed batch must not panic).
#[inline]
pub(crate) fn item<'a>(buf: &'a [u8], ends: Ends<'_>, i: usize) -> &'a [u8] {
    let Some(end) = ends.get(i) else { return &[] };
    let start = match i.checked_sub(1) {
        Some(p) => ends.get(p).unwrap_or(0),
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

/// The records of one batch, as plugin code sees them: a borrowed view
/// over the batch the host passed, columnar or packed. Nothing is copied.
///
/// The SDK builds it and hands plugin code [`Record`]s from it. Plugins
/// that implement the raw bindings build it themselves with
/// [`Records::of`] (a columnar batch) or [`Records::packed`].
#[derive(Clone, Copy)]
pub struct Records<'a> {
    n: usize,
    origin: &'a str,
    partition: &'a str,
    values: &'a [u8],
    value_ends: Ends<'a>,
    keys: &'a [u8],
    key_ends: Ends<'a>,
    has_key: &'a [u8],
    header_ends: Ends<'a>,
    header_data: &'a [u8],
    header_data_ends: Ends<'a>,
    timestamps: Words<'a, i64>,
    positions: &'a [u8],
    position_ends: Ends<'a>,
}

/// Splits `len` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    let (head, tail) = rest.split_at_checked(len)?;
    *rest = tail;
    Some(head)
}

impl<'a> Records<'a> {
    /// The records of a columnar batch.
    pub fn of(batch: &'a Batch) -> Self {
        let c: &'a Columns = &batch.records;
        Self {
            n: c.value_ends.len(),
            origin: &batch.origin,
            partition: &batch.partition,
            values: &c.values,
            value_ends: Words::Native(&c.value_ends),
            keys: &c.keys,
            key_ends: Words::Native(&c.key_ends),
            has_key: &c.has_key,
            header_ends: Words::Native(&c.header_ends),
            header_data: &c.header_data,
            header_data_ends: Words::Native(&c.header_data_ends),
            timestamps: Words::Native(&batch.timestamps),
            positions: &batch.positions,
            position_ends: Words::Native(&batch.position_ends),
        }
    }

    /// The records of a packed batch (`types.packed-batch` in the WIT), or
    /// `None` when `bytes` is not one: not as long as its lengths say, or
    /// with an origin or partition that is not UTF-8.
    pub fn packed(bytes: &'a [u8]) -> Option<Self> {
        let mut rest = bytes;
        let mut lengths = [0usize; 8];
        for l in &mut lengths {
            *l = u32::read(take(&mut rest, 4)?)? as usize;
        }
        let [
            n,
            h,
            origin,
            partition,
            values,
            keys,
            header_data,
            positions,
        ] = lengths;
        let words = |count: usize, rest: &mut &'a [u8]| -> Option<Ends<'a>> {
            Some(Words::Le(take(rest, count.checked_mul(4)?)?))
        };
        let timestamps = Words::Le(take(&mut rest, n.checked_mul(8)?)?);
        let value_ends = words(n, &mut rest)?;
        let key_ends = words(n, &mut rest)?;
        let has_key = take(&mut rest, n)?;
        let header_ends = words(n, &mut rest)?;
        let header_data_ends = words(h.checked_mul(2)?, &mut rest)?;
        let position_ends = words(n, &mut rest)?;
        Some(Self {
            n,
            origin: std::str::from_utf8(take(&mut rest, origin)?).ok()?,
            partition: std::str::from_utf8(take(&mut rest, partition)?).ok()?,
            values: take(&mut rest, values)?,
            value_ends,
            keys: take(&mut rest, keys)?,
            key_ends,
            has_key,
            header_ends,
            header_data: take(&mut rest, header_data)?,
            header_data_ends,
            timestamps,
            positions: take(&mut rest, positions)?,
            position_ends,
        })
        .filter(|_| rest.is_empty())
    }

    /// The number of records.
    #[inline]
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no records.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The record at `index`, or `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        (index < self.n).then(|| Record::new(self, index as u32))
    }

    /// The records in batch order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        (0..self.n as u32).map(|i| Record::new(self, i))
    }

    /// The total size of the record values, in bytes.
    #[inline]
    pub fn value_bytes(&self) -> usize {
        self.values.len()
    }
}

/// One record of a batch, as plugin code sees it.
///
/// A `Record` borrows the batch: it is a pointer and an index, and none of
/// its accessors allocate. Offsets outside the batch read as empty.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    batch: &'a Records<'a>,
    index: u32,
}

impl<'a> Record<'a> {
    #[inline]
    pub(crate) fn new(batch: &'a Records<'a>, index: u32) -> Self {
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
        let c = self.batch;
        match c.has_key.get(self.i()) {
            Some(&1) => Some(item(c.keys, c.key_ends, self.i())),
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
        let c = self.batch;
        item(c.values, c.value_ends, self.i())
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
        let c: &'a Records<'a> = self.batch;
        let i = self.i();
        let end = c.header_ends.get(i).unwrap_or(0) as usize;
        let start = match i.checked_sub(1) {
            Some(p) => c.header_ends.get(p).unwrap_or(0) as usize,
            None => 0,
        };
        (start..end.max(start)).map(move |h| {
            (
                item(c.header_data, c.header_data_ends, 2 * h),
                item(c.header_data, c.header_data_ends, 2 * h + 1),
            )
        })
    }

    /// When the record was produced, in milliseconds since the Unix epoch.
    #[inline]
    pub fn timestamp_ms(&self) -> i64 {
        self.batch.timestamps.get(self.i()).unwrap_or(0)
    }

    /// Where the record sits in its partition or shard (a Kafka offset or a
    /// Kinesis sequence number, as decimal digits). Empty if not UTF-8.
    pub fn position(&self) -> &'a str {
        std::str::from_utf8(item(
            self.batch.positions,
            self.batch.position_ends,
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
        self.batch.origin
    }

    /// The partition number or shard id of the batch within its origin.
    #[inline]
    pub fn partition(&self) -> &'a str {
        self.batch.partition
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

    /// `batch` in the packed layout (`types.packed-batch`).
    pub(crate) fn pack(batch: &Batch) -> Vec<u8> {
        let c = &batch.records;
        let mut out = Vec::new();
        let lengths = [
            c.value_ends.len(),
            c.header_data_ends.len() / 2,
            batch.origin.len(),
            batch.partition.len(),
            c.values.len(),
            c.keys.len(),
            c.header_data.len(),
            batch.positions.len(),
        ];
        for l in lengths {
            out.extend_from_slice(&(l as u32).to_le_bytes());
        }
        for t in &batch.timestamps {
            out.extend_from_slice(&t.to_le_bytes());
        }
        let words = |out: &mut Vec<u8>, v: &[u32]| {
            for w in v {
                out.extend_from_slice(&w.to_le_bytes());
            }
        };
        words(&mut out, &c.value_ends);
        words(&mut out, &c.key_ends);
        out.extend_from_slice(&c.has_key);
        words(&mut out, &c.header_ends);
        words(&mut out, &c.header_data_ends);
        words(&mut out, &batch.position_ends);
        for part in [
            batch.origin.as_bytes(),
            batch.partition.as_bytes(),
            &c.values,
            &c.keys,
            &c.header_data,
            &batch.positions,
        ] {
            out.extend_from_slice(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::test_batch::batch;
    use super::*;

    fn check_fields(b: &Records<'_>) {
        assert_eq!(b.len(), 3);
        let r = b.get(0).unwrap();
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
        let r = b.get(1).unwrap();
        assert_eq!(
            (r.key(), r.value(), r.headers().count()),
            (None, &b"v2"[..], 0)
        );
        assert_eq!((r.timestamp_ms(), r.position()), (8, "1"));
        let r = b.get(2).unwrap();
        assert_eq!(r.key(), Some(&b""[..]), "an empty key is not a missing key");
        assert_eq!(r.header("a"), Some(&b"b"[..]));
        assert!(b.get(3).is_none());
        assert_eq!(b.iter().map(|r| r.index()).collect::<Vec<_>>(), [0, 1, 2]);
    }

    fn three() -> Batch {
        batch(&[
            (Some(b"k1"), b"v1", vec![(b"h", b"x"), (b"\xff", b"y")]),
            (None, b"v2", vec![]),
            (Some(b""), b"", vec![(b"a", b"b")]),
        ])
    }

    #[test]
    fn reads_fields() {
        check_fields(&Records::of(&three()));
    }

    #[test]
    fn reads_packed_fields() {
        let packed = test_batch::pack(&three());
        check_fields(&Records::packed(&packed).unwrap());
    }

    #[test]
    fn a_short_or_bad_packed_batch_is_refused() {
        let packed = test_batch::pack(&three());
        for len in 0..packed.len() {
            assert!(Records::packed(&packed[..len]).is_none(), "{len} bytes");
        }
        let mut longer = packed.clone();
        longer.push(0);
        assert!(Records::packed(&longer).is_none(), "a byte past the end");
        let mut bad = packed.clone();
        // The record count, far past the data.
        bad[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Records::packed(&bad).is_none());
        let empty = test_batch::pack(&batch(&[]));
        assert!(Records::packed(&empty).unwrap().is_empty());
    }

    #[test]
    fn bad_offsets_are_empty() {
        let mut b = batch(&[(Some(b"k"), b"value", vec![(b"h", b"x")])]);
        b.records.value_ends = vec![500];
        b.records.header_ends = vec![9];
        b.position_ends = vec![u32::MAX];
        let records = Records::of(&b);
        let r = Record::new(&records, 0);
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
        let r = Record::new(&records, 5);
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
