//! Packing records into the columnar WIT form, and reading columns back.

use super::bindings::types::{Batch as WitBatch, Columns, RecordError};
use super::budget::cut;
use super::{Limits, QuotaExceeded};
use crate::record::{Bytes, Header, Position, Record};

/// Appends one record's key, value and headers to `c`.
pub(crate) fn push_record(c: &mut Columns, key: Option<&[u8]>, value: &[u8], headers: &[Header]) {
    c.values.extend_from_slice(value);
    c.value_ends.push(c.values.len() as u32);
    if let Some(k) = key {
        c.keys.extend_from_slice(k);
    }
    c.key_ends.push(c.keys.len() as u32);
    c.has_key.push(u8::from(key.is_some()));
    for h in headers {
        c.header_data.extend_from_slice(h.name.as_bytes());
        c.header_data_ends.push(c.header_data.len() as u32);
        c.header_data.extend_from_slice(&h.value);
        c.header_data_ends.push(c.header_data.len() as u32);
    }
    c.header_ends.push((c.header_data_ends.len() / 2) as u32);
}

fn clear(c: &mut Columns) {
    c.values.clear();
    c.value_ends.clear();
    c.keys.clear();
    c.key_ends.clear();
    c.has_key.clear();
    c.header_ends.clear();
    c.header_data.clear();
    c.header_data_ends.clear();
}

/// Writes each record's position, back to back, into `positions` (a Kafka
/// offset as decimal digits, a Kinesis sequence number as it is), and its
/// end offset into `ends`; both are cleared first.
fn push_positions(records: &[Record], positions: &mut Vec<u8>, ends: &mut Vec<u32>) {
    positions.clear();
    ends.clear();
    let mut digits = itoa::Buffer::new();
    for r in records {
        match &r.position {
            Position::Offset(o) => positions.extend_from_slice(digits.format(*o).as_bytes()),
            Position::Sequence(s) => positions.extend_from_slice(s.as_bytes()),
        }
        ends.push(positions.len() as u32);
    }
}

/// A reusable WIT batch, columnar and packed: its buffers keep their
/// capacity across calls.
#[derive(Debug)]
pub(crate) struct BatchBuffers {
    batch: WitBatch,
    packed: Vec<u8>,
}

impl Default for BatchBuffers {
    fn default() -> Self {
        BatchBuffers {
            packed: Vec::new(),
            batch: WitBatch {
                origin: String::new(),
                partition: String::new(),
                records: empty_columns(),
                timestamps: Vec::new(),
                positions: Vec::new(),
                position_ends: Vec::new(),
            },
        }
    }
}

pub(crate) fn empty_columns() -> Columns {
    Columns {
        values: Vec::new(),
        value_ends: Vec::new(),
        keys: Vec::new(),
        key_ends: Vec::new(),
        has_key: Vec::new(),
        header_ends: Vec::new(),
        header_data: Vec::new(),
        header_data_ends: Vec::new(),
    }
}

impl BatchBuffers {
    /// Packs `records` into the columnar batch and returns it.
    pub(crate) fn pack(&mut self, origin: &str, partition: &str, records: &[Record]) -> &WitBatch {
        let b = &mut self.batch;
        b.origin.clear();
        b.origin.push_str(origin);
        b.partition.clear();
        b.partition.push_str(partition);
        clear(&mut b.records);
        b.timestamps.clear();
        b.records
            .values
            .reserve(records.iter().map(|r| r.value.len()).sum());
        for r in records {
            push_record(&mut b.records, r.key.as_deref(), &r.value, &r.headers);
            b.timestamps.push(r.timestamp_ms);
        }
        push_positions(records, &mut b.positions, &mut b.position_ends);
        &self.batch
    }

    /// Packs `records` into one buffer in the layout of the WIT's
    /// `types.packed-batch`, and returns it. Each field is written in one
    /// pass over the records, straight into its place; the positions are
    /// formatted first, into the columnar batch's buffers.
    pub(crate) fn pack_bytes(
        &mut self,
        origin: &str,
        partition: &str,
        records: &[Record],
    ) -> &Vec<u8> {
        let (position_bytes, position_ends) =
            (&mut self.batch.positions, &mut self.batch.position_ends);
        push_positions(records, position_bytes, position_ends);
        let positions = position_bytes.len();
        let (mut headers, mut values, mut keys, mut header_data) = (0, 0, 0, 0);
        for r in records {
            headers += r.headers.len();
            values += r.value.len();
            keys += r.key.as_ref().map_or(0, |k| k.len());
            header_data += r
                .headers
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
        }
        let n = records.len();
        let out = &mut self.packed;
        out.clear();
        out.reserve(
            32 + 25 * n
                + 8 * headers
                + origin.len()
                + partition.len()
                + values
                + keys
                + header_data
                + positions,
        );
        let word = |out: &mut Vec<u8>, w: usize| out.extend_from_slice(&(w as u32).to_le_bytes());
        for w in [
            n,
            headers,
            origin.len(),
            partition.len(),
            values,
            keys,
            header_data,
            positions,
        ] {
            word(out, w);
        }
        for r in records {
            out.extend_from_slice(&r.timestamp_ms.to_le_bytes());
        }
        let mut end = 0;
        for r in records {
            end += r.value.len();
            word(out, end);
        }
        end = 0;
        for r in records {
            end += r.key.as_ref().map_or(0, |k| k.len());
            word(out, end);
        }
        out.extend(records.iter().map(|r| u8::from(r.key.is_some())));
        end = 0;
        for r in records {
            end += r.headers.len();
            word(out, end);
        }
        end = 0;
        for h in records.iter().flat_map(|r| &r.headers) {
            end += h.name.len();
            word(out, end);
            end += h.value.len();
            word(out, end);
        }
        for &end in position_ends.iter() {
            word(out, end as usize);
        }
        out.extend_from_slice(origin.as_bytes());
        out.extend_from_slice(partition.as_bytes());
        for r in records {
            out.extend_from_slice(&r.value);
        }
        for r in records.iter().filter_map(|r| r.key.as_ref()) {
            out.extend_from_slice(r);
        }
        for h in records.iter().flat_map(|r| &r.headers) {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(&h.value);
        }
        out.extend_from_slice(position_bytes);
        &self.packed
    }
}

/// A record's key, value and headers, read back from columns.
pub(crate) type RecordParts = (Option<Bytes>, Bytes, Vec<Header>);

/// Reads record `i` of columns returned by a plugin, checking every offset.
/// Each byte column becomes one shared buffer, and every record's key,
/// value and header values are slices of it: nothing is copied.
pub(crate) struct ColumnsReader {
    values: Bytes,
    value_ends: Vec<u32>,
    keys: Bytes,
    key_ends: Vec<u32>,
    has_key: Vec<u8>,
    header_ends: Vec<u32>,
    header_data: Bytes,
    header_data_ends: Vec<u32>,
}

fn range(ends: &[u32], i: usize, len: usize, what: &str) -> Result<std::ops::Range<usize>, String> {
    let end = *ends
        .get(i)
        .ok_or_else(|| format!("{what}: no end offset for record {i}"))? as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    if start <= end && end <= len {
        Ok(start..end)
    } else {
        Err(format!(
            "{what}: offsets {start}..{end} are outside the {len}-byte buffer"
        ))
    }
}

impl ColumnsReader {
    pub(crate) fn new(c: Columns) -> Self {
        ColumnsReader {
            values: Bytes::from(c.values),
            value_ends: c.value_ends,
            keys: Bytes::from(c.keys),
            key_ends: c.key_ends,
            has_key: c.has_key,
            header_ends: c.header_ends,
            header_data: Bytes::from(c.header_data),
            header_data_ends: c.header_data_ends,
        }
    }

    /// The number of records.
    pub(crate) fn len(&self) -> usize {
        self.value_ends.len()
    }

    /// Key, value and headers of record `i`.
    pub(crate) fn record(&self, i: usize) -> Result<RecordParts, String> {
        let value = self
            .values
            .slice(range(&self.value_ends, i, self.values.len(), "value")?);
        let has_key = *self
            .has_key
            .get(i)
            .ok_or_else(|| format!("has-key: missing for record {i}"))?
            != 0;
        let key_range = range(&self.key_ends, i, self.keys.len(), "key")?;
        let key = has_key.then(|| self.keys.slice(key_range));
        let hs = range(
            &self.header_ends,
            i,
            self.header_data_ends.len() / 2,
            "header-ends",
        )?;
        let data = &self.header_data;
        let mut headers = Vec::with_capacity(hs.len());
        for h in hs {
            let name = range(&self.header_data_ends, 2 * h, data.len(), "header name")?;
            let value = range(
                &self.header_data_ends,
                2 * h + 1,
                data.len(),
                "header value",
            )?;
            let name = std::str::from_utf8(&data[name])
                .map_err(|_| "header name is not UTF-8".to_string())?;
            headers.push(Header::new(name, data.slice(value)));
        }
        Ok((key, value, headers))
    }
}

/// Validates per-record errors against the batch size: every index in
/// range and given once. Messages are cut to `limits.message_bytes`.
pub(crate) fn record_errors_within(
    errors: Vec<RecordError>,
    len: usize,
    limits: &Limits,
) -> Result<Vec<(usize, String)>, String> {
    if errors.len() > len {
        return Err(format!(
            "returned {} record errors for a batch of {len} records",
            errors.len()
        ));
    }
    let mut seen = vec![false; len];
    let max = limits.message_bytes();
    errors
        .into_iter()
        .map(|e| {
            let i = e.index as usize;
            match seen.get_mut(i) {
                None => Err(format!(
                    "error for record {i}, but the batch has {len} records"
                )),
                Some(true) => Err(format!("two errors for record {i}")),
                Some(seen) => {
                    *seen = true;
                    Ok((i, cut(e.message, max)))
                }
            }
        })
        .collect()
}

/// The total bytes of columns' byte lists, and the number of records.
pub(crate) fn columns_size(c: &Columns) -> (usize, usize) {
    (
        c.values.len() + c.keys.len() + c.header_data.len(),
        c.value_ends.len(),
    )
}

/// Refuses emitted columns past `limits.output_records` or
/// `limits.output_mb`, before any record is built from them.
pub(crate) fn check_output(c: &Columns, limits: &Limits) -> Result<(), QuotaExceeded> {
    let (bytes, records) = columns_size(c);
    if records > limits.output_records() {
        return Err(QuotaExceeded::new(
            "output_records",
            limits.output_records,
            "",
            format!("the call emitted {records} records"),
        ));
    }
    if bytes > limits.output_bytes() {
        return Err(QuotaExceeded::new(
            "output_mb",
            limits.output_mb,
            " MiB",
            format!("the call emitted {bytes} bytes of keys, values and headers"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_columns_and_reads_them_back() -> Result<(), String> {
        let mut b = BatchBuffers::default();
        let records = vec![
            Record::new(b"{\"a\":1}".to_vec(), Position::Offset(7), 1).with_key(b"k".to_vec()),
            Record::new(b"v2".to_vec(), Position::Offset(1234567890123), 2)
                .with_header("h", b"x".to_vec()),
            Record::new(b"".to_vec(), Position::Sequence("4960".into()), 3).with_key(Vec::new()),
        ];
        let batch = b.pack("topic", "0", &records);
        assert_eq!(batch.positions, b"712345678901234960");
        assert_eq!(batch.position_ends, vec![1, 14, 18]);
        let r = ColumnsReader::new(batch.records.clone());
        assert_eq!(r.len(), 3);
        assert_eq!(
            r.record(0)?,
            (
                Some(Bytes::from_static(b"k")),
                Bytes::from_static(b"{\"a\":1}"),
                vec![]
            )
        );
        let (key, value, headers) = r.record(1)?;
        assert_eq!((key, value), (None, Bytes::from_static(b"v2")));
        assert_eq!(&*headers[0].name, "h");
        assert_eq!(headers[0].value, &b"x"[..]);
        assert_eq!(
            r.record(2)?.0,
            Some(Bytes::new()),
            "an empty key is not a missing key"
        );
        // Packing again reuses the buffers.
        let again = b.pack("topic", "0", &records[..1]);
        assert_eq!(again.records.value_ends, vec![7]);
        Ok(())
    }

    /// The packed layout spelt out field by field from the columnar batch.
    fn packed_from_columns(b: &WitBatch) -> Vec<u8> {
        let c = &b.records;
        let mut out = Vec::new();
        let words = |out: &mut Vec<u8>, v: &[u32]| {
            v.iter()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes()))
        };
        words(
            &mut out,
            &[
                c.value_ends.len() as u32,
                (c.header_data_ends.len() / 2) as u32,
                b.origin.len() as u32,
                b.partition.len() as u32,
                c.values.len() as u32,
                c.keys.len() as u32,
                c.header_data.len() as u32,
                b.positions.len() as u32,
            ],
        );
        b.timestamps
            .iter()
            .for_each(|t| out.extend_from_slice(&t.to_le_bytes()));
        words(&mut out, &c.value_ends);
        words(&mut out, &c.key_ends);
        out.extend_from_slice(&c.has_key);
        words(&mut out, &c.header_ends);
        words(&mut out, &c.header_data_ends);
        words(&mut out, &b.position_ends);
        for part in [b.origin.as_bytes(), b.partition.as_bytes(), &c.values] {
            out.extend_from_slice(part);
        }
        for part in [&c.keys, &c.header_data, &b.positions] {
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn packs_one_buffer_with_the_columns_fields() {
        let mut b = BatchBuffers::default();
        let records = [
            Record::new(b"{\"a\":1}".to_vec(), Position::Offset(7), -1).with_key(b"k".to_vec()),
            Record::new(b"v2".to_vec(), Position::Offset(1234567890123), 2)
                .with_header("h", b"x".to_vec())
                .with_header("trace", b"".to_vec()),
            Record::new(b"".to_vec(), Position::Sequence("4960".into()), 3).with_key(Vec::new()),
            Record::new(b"v4".to_vec(), Position::Offset(0), 4).with_header("é", b"y".to_vec()),
        ];
        for cut in [0, 1, 4] {
            let expected = packed_from_columns(b.pack("tópic", "12", &records[..cut]));
            assert_eq!(
                b.pack_bytes("tópic", "12", &records[..cut]),
                &expected,
                "{cut} records"
            );
        }
        assert_eq!(b.pack_bytes("", "", &[]).len(), 32);
    }

    #[test]
    fn record_errors_are_checked_and_cut() {
        let error = |index: u32, message: &str| RecordError {
            index,
            message: message.to_string(),
        };
        let limits = Limits {
            message_bytes: 4,
            ..Limits::default()
        };
        let ok = record_errors_within(vec![error(1, "too long"), error(0, "")], 3, &limits);
        assert_eq!(
            ok,
            Ok(vec![
                (1, "too  …[4 more bytes cut]".to_string()),
                (0, String::new())
            ])
        );
        let twice = record_errors_within(vec![error(1, ""), error(1, "")], 3, &limits);
        assert_eq!(twice, Err("two errors for record 1".to_string()));
        let many = record_errors_within(vec![error(0, ""); 4], 3, &limits);
        assert!(many.is_err_and(|e| e.contains("4 record errors")));
        let past = record_errors_within(vec![error(3, "")], 3, &limits);
        assert!(past.is_err());
    }

    #[test]
    fn rejects_bad_offsets() {
        let mut c = empty_columns();
        c.values = b"abc".to_vec();
        c.value_ends = vec![2, 9];
        c.key_ends = vec![0, 0];
        c.has_key = vec![0, 0];
        c.header_ends = vec![0, 0];
        let r = ColumnsReader::new(c.clone());
        assert!(r.record(0).is_ok());
        assert!(r.record(1).is_err());
        assert!(r.record(2).is_err());
        c.value_ends = vec![2, 1];
        assert!(
            ColumnsReader::new(c).record(1).is_err(),
            "ends must not go backwards"
        );
    }
}
