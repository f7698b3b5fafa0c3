//! Records as the host sees them.
//!
//! Keys, values and header values are [`Bytes`]: shared, immutable
//! buffers. A record travels from its source through the filter, the lanes,
//! the stages, the routes and the sinks (and into dead letters) without its
//! bytes being copied, cloning a record or a [`Batch`] copies no payload,
//! and a source may hand out slices of one buffer it read.

use std::fmt;
use std::sync::Arc;

pub use bytes::Bytes;

mod dead_letter;
pub mod envelope;
mod read_letter;

pub use dead_letter::DeadLetter;
pub use read_letter::NotADeadLetter;

/// One header of a record: a UTF-8 name and arbitrary bytes.
///
/// The name is shared like the value: a source hands out one name for all
/// the records that carry it, and a stage that adds a header to every record
/// (the plugin version) allocates nothing per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header name.
    pub name: Arc<str>,
    /// The header value.
    pub value: Bytes,
}

impl Header {
    /// A header `name: value`.
    pub fn new(name: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Where a record sits in its partition or shard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Position {
    /// A numeric offset (Kafka offsets, file line numbers, generator counters).
    Offset(u64),
    /// An opaque ordered token (Kinesis sequence numbers).
    Sequence(Arc<str>),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Offset(o) => write!(f, "{o}"),
            Position::Sequence(s) => f.write_str(s),
        }
    }
}

/// A record flowing through a pipeline.
///
/// Sources create records; plugin stages keep, drop, transform or annotate
/// them; sinks write them. `score` and `labels` are set by scorer and reward
/// stages and are what routes test.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The key, if the record has one (absent is not the same as empty).
    pub key: Option<Bytes>,
    /// The payload, usually JSON; never altered by the host.
    pub value: Bytes,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// When the record was produced, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The record's position in its source partition.
    pub position: Position,
    /// Score from the last scorer or reward stage, if any.
    pub score: Option<f64>,
    /// Labels (reasons) from scorer stages.
    pub labels: Vec<String>,
}

impl Record {
    /// A record with only a value, at `position`, timestamped `timestamp_ms`.
    pub fn new(value: impl Into<Bytes>, position: Position, timestamp_ms: i64) -> Self {
        Record {
            key: None,
            value: value.into(),
            headers: Vec::new(),
            timestamp_ms,
            position,
            score: None,
            labels: Vec::new(),
        }
    }

    /// Sets the key.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| &*h.name == name)
            .map(|h| &h.value[..])
    }

    /// Approximate size in bytes (key, value and headers), used for batch limits.
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Bytes::len)
            + self.value.len()
            + self
                .headers
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>()
    }
}

/// A batch of records from one partition or shard, in source order.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The topic, stream or file the records came from.
    pub origin: Arc<str>,
    /// The partition or shard within `origin`.
    pub partition: Arc<str>,
    /// The records.
    pub records: Vec<Record>,
}

impl Batch {
    /// A batch of `records` from `origin`/`partition`.
    pub fn new(
        origin: impl Into<Arc<str>>,
        partition: impl Into<Arc<str>>,
        records: Vec<Record>,
    ) -> Self {
        Batch {
            origin: origin.into(),
            partition: partition.into(),
            records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloning_a_batch_copies_no_payload() {
        let batch = Batch::new(
            "t",
            "0",
            vec![Record::new(vec![7u8; 1024], Position::Offset(0), 0).with_key("k")],
        );
        let copy = batch.clone();
        let (a, b) = (&batch.records[0], &copy.records[0]);
        assert_eq!(a.value.as_ptr(), b.value.as_ptr());
        assert_eq!(
            a.key.as_ref().map(|k| k.as_ptr()),
            b.key.as_ref().map(|k| k.as_ptr())
        );
    }
}
