//! Target `kpl`: Kinesis KPL de-aggregation
//! ([`weir_kinesis::kpl::deaggregate`]).
//!
//! A random record almost never carries a correct MD5 digest, so each
//! input is de-aggregated twice: as it is (a whole Kinesis record), and as
//! the protobuf body of an aggregate, wrapped in the magic bytes and its
//! digest. An input that starts with the magic bytes has its body (between
//! the magic and the last 16 bytes) re-digested too, so that mutations of
//! real aggregates keep reaching the protobuf decoder. Whatever
//! de-aggregates must aggregate back into the same user records, and the
//! positions the reader gives the user records (the aggregate's sequence
//! number and a sub-sequence number, [`SeqKey`]) must increase and read
//! back as written. The input's first line is also read as a position.

use md5::{Digest as _, Md5};
use weir_kinesis::SeqKey;
use weir_kinesis::kpl::{MAGIC, UserRecord, aggregate, deaggregate};

use crate::mutate::Rng;
use crate::{combine, feature, mix};

/// Protobuf tags and lengths of the aggregate format.
pub const DICTIONARY: &[&[u8]] = &[
    &[0xf3, 0x89, 0x9a, 0xc2],
    &[0x0a, 0x00],
    &[0x0a, 0x02, b'p', b'k'],
    &[0x12, 0x01, b'1'],
    &[0x1a, 0x00],
    &[0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00],
    &[0x08, 0x7f],
    &[0x08, 0xff, 0xff, 0xff, 0xff, 0x0f],
    &[
        0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ],
    &[0x10, 0x00],
    &[0x22, 0x02, 0x0a, 0x00],
    &[0x0d, 0, 0, 0, 0],
    &[0x09, 0, 0, 0, 0, 0, 0, 0, 0],
    &[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ],
    &[
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
    ],
];

const DIGEST_LEN: usize = 16;

/// `body` wrapped as an aggregated record with a correct digest.
pub fn wrap(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + body.len() + DIGEST_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(body);
    out.extend_from_slice(Md5::digest(body).as_slice());
    out
}

/// De-aggregates `record` and checks that what comes out goes back in.
fn check(record: &[u8]) -> u64 {
    match deaggregate(record) {
        None => 1,
        Some(users) => {
            let again = deaggregate(&aggregate(&users));
            assert_eq!(
                again.as_ref(),
                Some(&users),
                "re-aggregated user records differ"
            );
            let seq = "49590338271490256608559692538361571095921575989136588898";
            let mut last = SeqKey::plain(seq);
            for i in 0..users.len() {
                let key = SeqKey::sub(seq, i as u64);
                assert!(
                    i == 0 || key > last,
                    "user record {i} does not come after {last}"
                );
                assert_eq!(SeqKey::from_position(&key.position()), Some(key.clone()));
                last = key;
            }
            let bytes: usize = users.iter().map(|u| u.data.len()).sum();
            assert!(
                bytes <= record.len(),
                "{bytes} bytes of user data out of a {}-byte record",
                record.len()
            );
            mix(2, users.len().min(64) as u64)
        }
    }
}

/// Runs one input; see the module docs.
pub fn run(data: &[u8]) {
    exec(data);
}

/// Runs one input and returns its signature.
pub fn exec(data: &[u8]) -> u64 {
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    if let Ok(text) = std::str::from_utf8(first_line)
        && let Some(key) = SeqKey::parse(text)
    {
        let again = SeqKey::parse(&key.to_string());
        assert_eq!(
            again.as_ref(),
            Some(&key),
            "position {text} does not read back"
        );
        assert_eq!(again.map(|k| k.sub), Some(key.sub));
        feature(3);
    }
    let mut sig = check(data);
    sig = combine(sig, check(&wrap(data)));
    if let Some(body) = data.strip_prefix(&MAGIC)
        && body.len() >= DIGEST_LEN
    {
        sig = combine(sig, check(&wrap(&body[..body.len() - DIGEST_LEN])));
    }
    sig
}

/// An aggregate of a few user records, sometimes with extra fields (the
/// explicit hash key table, tags) that de-aggregation skips.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let keys = ["pk", "", "vehicle-1", "ключ"];
    let users: Vec<UserRecord> = (0..rng.below(6))
        .map(|_| UserRecord {
            partition_key: (*rng.pick(&keys)).to_string(),
            data: (0..rng.small(40)).map(|_| rng.byte()).collect(),
        })
        .collect();
    let packed = aggregate(&users);
    if rng.one_in(2) {
        return packed;
    }
    // The body alone, with an explicit hash key table entry or a tag.
    let mut body = packed[MAGIC.len()..packed.len() - DIGEST_LEN].to_vec();
    match rng.below(3) {
        0 => body.extend_from_slice(&[0x12, 0x01, b'7']),
        1 => body.extend_from_slice(&[0x1a, 0x08, 0x08, 0x00, 0x22, 0x04, 0x0a, 0x00, 0x12, 0x00]),
        _ => {}
    }
    body
}
