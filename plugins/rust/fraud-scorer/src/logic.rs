//! The fraud rules, free of any plugin glue: the plugin (`lib.rs`) and
//! weir's native reference benchmark both compile this file, so they run
//! exactly the same logic.

use std::borrow::Cow;

use serde::Deserialize;

const VELOCITY_WEIGHT: f64 = 0.8;
const AMOUNT_WEIGHT: f64 = 0.85;
const COUNTRY_WEIGHT: f64 = 0.75;

/// The fields of a transaction the scorer reads.
#[derive(Deserialize)]
pub struct Transaction<'a> {
    #[serde(borrow)]
    pub card_id: Cow<'a, str>,
    pub amount: f64,
    #[serde(borrow)]
    pub country: Cow<'a, str>,
    pub ts: i64,
}

/// What the scorer remembers about one card.
#[derive(Debug, Default, PartialEq)]
pub struct CardState {
    /// Number of transactions seen.
    pub count: u64,
    /// Mean amount of those transactions.
    pub mean_amount: f64,
    /// Event time of the previous transaction (0 when `count == 0`).
    pub last_ts: i64,
    /// Country of the previous transaction.
    pub last_country: String,
    /// Event times of the most recent transactions, oldest first
    /// (at most `velocity_max`).
    pub recent: Vec<i64>,
}

/// Binary layout, little-endian: version `1` (u8), count (u64), mean amount
/// (f64), last ts (i64), country length (u8) + UTF-8 bytes, number of recent
/// timestamps (u16) + that many i64.
const STATE_VERSION: u8 = 1;

impl CardState {
    /// The state as bytes (layout above).
    pub fn encode(&self) -> Vec<u8> {
        let country = &self.last_country.as_bytes()[..self.last_country.len().min(255)];
        let recent = &self.recent[self.recent.len().saturating_sub(usize::from(u16::MAX))..];
        let mut out = Vec::with_capacity(28 + country.len() + 8 * recent.len());
        out.push(STATE_VERSION);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.mean_amount.to_le_bytes());
        out.extend_from_slice(&self.last_ts.to_le_bytes());
        out.push(country.len() as u8);
        out.extend_from_slice(country);
        out.extend_from_slice(&(recent.len() as u16).to_le_bytes());
        for ts in recent {
            out.extend_from_slice(&ts.to_le_bytes());
        }
        out
    }

    /// Parses [`CardState::encode`] output; `None` if malformed.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.take::<1>()?[0] != STATE_VERSION {
            return None;
        }
        let count = u64::from_le_bytes(r.take()?);
        let mean_amount = f64::from_le_bytes(r.take()?);
        let last_ts = i64::from_le_bytes(r.take()?);
        let country_len = usize::from(r.take::<1>()?[0]);
        let last_country = String::from_utf8(r.bytes(country_len)?.to_vec()).ok()?;
        let n = usize::from(u16::from_le_bytes(r.take()?));
        let recent = (0..n)
            .map(|_| r.take().map(i64::from_le_bytes))
            .collect::<Option<Vec<_>>>()?;
        r.0.is_empty().then_some(Self {
            count,
            mean_amount,
            last_ts,
            last_country,
            recent,
        })
    }
}

/// A cursor over state bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
}

/// The thresholds of the fraud rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Velocity window in ms of event time.
    pub velocity_window_ms: i64,
    /// Transactions within the window (including this one) that fire `velocity`.
    pub velocity_max: usize,
    /// Prior transactions needed before `amount` can fire.
    pub min_history: u64,
    /// `amount` fires above this multiple of the card's mean amount.
    pub amount_factor: f64,
    /// `country-change` fires within this many ms of the previous transaction.
    pub country_window_ms: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            velocity_window_ms: 60_000,
            velocity_max: 5,
            min_history: 5,
            amount_factor: 8.0,
            country_window_ms: 3_600_000,
        }
    }
}

/// The labels the rules can fire, in the order they are checked.
pub type Labels = Vec<&'static str>;

impl Rules {
    /// Scores `txn` against `card`, then folds `txn` into `card`.
    /// The score is `1 - Π(1 - w)` over the fired labels.
    pub fn score_and_update(&self, card: &mut CardState, txn: &Transaction<'_>) -> (f64, Labels) {
        let mut labels = Labels::new();
        let mut keep = 1.0_f64;

        let window_start = txn.ts.saturating_sub(self.velocity_window_ms);
        let velocity = 1 + card
            .recent
            .iter()
            .filter(|&&t| t > window_start && t <= txn.ts)
            .count();
        if velocity >= self.velocity_max {
            keep *= 1.0 - VELOCITY_WEIGHT;
            labels.push("velocity");
        }

        if card.count >= self.min_history && txn.amount > self.amount_factor * card.mean_amount {
            keep *= 1.0 - AMOUNT_WEIGHT;
            labels.push("amount");
        }

        if card.count > 0 && card.last_country != txn.country {
            let since = txn.ts.saturating_sub(card.last_ts);
            if (0..self.country_window_ms).contains(&since) {
                keep *= 1.0 - COUNTRY_WEIGHT;
                labels.push("country-change");
            }
        }

        card.count += 1;
        card.mean_amount += (txn.amount - card.mean_amount) / card.count as f64;
        card.last_ts = txn.ts;
        card.last_country.clear();
        card.last_country.push_str(&txn.country);
        card.recent.push(txn.ts);
        let excess = card.recent.len().saturating_sub(self.velocity_max);
        card.recent.drain(..excess);
        (1.0 - keep, labels)
    }
}
