//! Kinesis sequence numbers as ordered keys, and how they travel through
//! the runtime as [`Position`]s.
//!
//! A sequence number is a decimal string of up to 128 digits, increasing
//! within a shard. Records de-aggregated from one KPL record share its
//! sequence number and are told apart by a sub-sequence number.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use weir::Position;

/// A record's place in its shard: sequence number, and for de-aggregated
/// records the index within the aggregate.
#[derive(Debug, Clone)]
pub struct SeqKey {
    /// The decimal sequence number, without leading zeros.
    pub seq: Arc<str>,
    /// The index within an aggregated record; `None` for a plain record.
    pub sub: Option<u64>,
}

impl SeqKey {
    /// A plain record's key.
    pub fn plain(seq: &str) -> Self {
        SeqKey {
            seq: normalize(seq).into(),
            sub: None,
        }
    }

    /// A de-aggregated record's key.
    pub fn sub(seq: &str, sub: u64) -> Self {
        SeqKey {
            seq: normalize(seq).into(),
            sub: Some(sub),
        }
    }

    /// Parses a position as written by [`SeqKey::position`]: `"<seq>"` or
    /// `"<seq>:<sub>"`.
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, sub) = match text.split_once(':') {
            Some((seq, sub)) => (seq, Some(sub.parse().ok()?)),
            None => (text, None),
        };
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(SeqKey {
            seq: normalize(seq).into(),
            sub,
        })
    }

    /// The key read back from a runtime position.
    pub fn from_position(position: &Position) -> Option<Self> {
        match position {
            Position::Sequence(s) => SeqKey::parse(s),
            Position::Offset(_) => None,
        }
    }

    /// The runtime position of the record with this key.
    pub fn position(&self) -> Position {
        Position::Sequence(self.to_string().into())
    }

    /// The sub-sequence number as the KCL lease table stores it (0 for a
    /// plain record).
    pub fn sub_or_zero(&self) -> u64 {
        self.sub.unwrap_or(0)
    }
}

fn normalize(seq: &str) -> &str {
    let trimmed = seq.trim_start_matches('0');
    if trimmed.is_empty() && !seq.is_empty() {
        "0"
    } else {
        trimmed
    }
}

/// Compares two decimal sequence numbers of any length.
pub fn compare_seq(a: &str, b: &str) -> Ordering {
    let (a, b) = (normalize(a), normalize(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for SeqKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_seq(&self.seq, &other.seq)
            .then_with(|| self.sub_or_zero().cmp(&other.sub_or_zero()))
    }
}

impl PartialEq for SeqKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SeqKey {}

impl PartialOrd for SeqKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SeqKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(sub) => write!(f, "{}:{sub}", self.seq),
            None => f.write_str(&self.seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numerically_beyond_u128() {
        let small = SeqKey::plain("49590338271490256608559692538361571095921575989136588898");
        let big = SeqKey::plain("149590338271490256608559692538361571095921575989136588898");
        assert!(small < big);
        assert!(SeqKey::plain("9") < SeqKey::plain("10"));
        assert_eq!(SeqKey::plain("007"), SeqKey::plain("7"));
        assert!(SeqKey::sub("5", 0) < SeqKey::sub("5", 1));
        assert!(SeqKey::sub("5", 3) < SeqKey::plain("6"));
        assert_eq!(SeqKey::plain("5"), SeqKey::sub("5", 0));
    }

    #[test]
    fn positions_round_trip() {
        for key in [SeqKey::plain("123"), SeqKey::sub("456", 7)] {
            assert_eq!(SeqKey::from_position(&key.position()), Some(key));
        }
        assert_eq!(SeqKey::parse("12a"), None);
        assert_eq!(SeqKey::parse(""), None);
        assert_eq!(SeqKey::parse("1:x"), None);
        assert_eq!(SeqKey::from_position(&Position::Offset(3)), None);
    }
}
