//! The KPL aggregated record format: many user records in one Kinesis
//! record.
//!
//! Layout: the magic bytes `F3 89 9A C2`, a protobuf `AggregatedRecord`
//! message, then the MD5 digest of that message. A record that does not
//! have this exact layout (wrong magic, bad digest, bad protobuf) is a plain
//! record, as the KCL treats it.
//!
//! ```text
//! message AggregatedRecord {
//!   repeated string partition_key_table = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes data = 3;
//!   repeated Tag tags = 4;
//! }
//! ```

use md5::{Digest as _, Md5};

/// The four bytes every aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_LEN: usize = 16;

/// One user record out of an aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Its partition key.
    pub partition_key: String,
    /// Its payload.
    pub data: Vec<u8>,
}

/// The user records of an aggregated record, or `None` if `data` is not one.
pub fn deaggregate(data: &[u8]) -> Option<Vec<UserRecord>> {
    let body = data.strip_prefix(&MAGIC)?;
    let split = body.len().checked_sub(DIGEST_LEN)?;
    let (message, digest) = body.split_at(split);
    if Md5::digest(message).as_slice() != digest {
        return None;
    }
    let mut keys = Vec::new();
    let mut raw = Vec::new();
    let mut r = Reader(message);
    while !r.0.is_empty() {
        let (field, wire) = r.tag()?;
        match (field, wire) {
            (1, 2) => keys.push(String::from_utf8(r.bytes()?.to_vec()).ok()?),
            (3, 2) => raw.push(r.bytes()?),
            _ => r.skip(wire)?,
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    for rec in raw {
        let (mut key_index, mut payload) = (None, None);
        let mut r = Reader(rec);
        while !r.0.is_empty() {
            match r.tag()? {
                (1, 0) => key_index = Some(r.varint()?),
                (3, 2) => payload = Some(r.bytes()?),
                (_, wire) => r.skip(wire)?,
            }
        }
        let key = keys.get(usize::try_from(key_index?).ok()?)?;
        out.push(UserRecord {
            partition_key: key.clone(),
            data: payload?.to_vec(),
        });
    }
    Some(out)
}

/// Packs `records` into one aggregated record, as the KPL does (each
/// distinct partition key stored once).
pub fn aggregate(records: &[UserRecord]) -> Vec<u8> {
    let mut keys: Vec<&str> = Vec::new();
    let mut message = Vec::new();
    let mut bodies = Vec::new();
    for rec in records {
        let index = keys
            .iter()
            .position(|k| *k == rec.partition_key)
            .unwrap_or_else(|| {
                keys.push(&rec.partition_key);
                keys.len() - 1
            });
        let mut body = Vec::new();
        put_varint(&mut body, 1 << 3);
        put_varint(&mut body, index as u64);
        put_bytes(&mut body, 3, &rec.data);
        bodies.push(body);
    }
    for key in &keys {
        put_bytes(&mut message, 1, key.as_bytes());
    }
    for body in &bodies {
        put_bytes(&mut message, 3, body);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&message);
    out.extend_from_slice(Md5::digest(&message).as_slice());
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A protobuf wire-format reader over a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn tag(&mut self) -> Option<(u64, u8)> {
        let t = self.varint()?;
        Some((t >> 3, (t & 7) as u8))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }

    fn skip(&mut self, wire: u8) -> Option<()> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.bytes().map(drop),
            5 => self.take(4).map(drop),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(key: &str, data: &str) -> UserRecord {
        UserRecord {
            partition_key: key.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn round_trips_and_shares_keys() {
        let records = vec![user("a", "{\"n\":1}"), user("b", ""), user("a", "third")];
        let packed = aggregate(&records);
        assert!(packed.starts_with(&MAGIC));
        assert_eq!(deaggregate(&packed), Some(records));
    }

    #[test]
    fn a_known_kpl_record_decodes() {
        // Partition key table ["pk"], one record with key index 0 and data
        // "hi", as the KPL writes it.
        let message = [
            0x0a, 0x02, b'p', b'k', 0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, b'h', b'i',
        ];
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&message);
        data.extend_from_slice(Md5::digest(message).as_slice());
        assert_eq!(deaggregate(&data), Some(vec![user("pk", "hi")]));
    }

    #[test]
    fn anything_else_is_a_plain_record() {
        assert_eq!(deaggregate(b"{\"plain\":true}"), None);
        assert_eq!(deaggregate(&MAGIC), None);
        let mut packed = aggregate(&[user("a", "x")]);
        let last = packed.len() - 1;
        packed[last] ^= 1; // digest no longer matches
        assert_eq!(deaggregate(&packed), None);
        // A digest that matches a truncated message: still refused.
        let message = [0x1a, 0x09, 0x08];
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(&message);
        bad.extend_from_slice(Md5::digest(message).as_slice());
        assert_eq!(deaggregate(&bad), None);
    }
}
