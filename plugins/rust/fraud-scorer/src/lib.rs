//! Scorer plugin: scores card transactions for fraud from per-card state (velocity, amount spikes, country changes).
//!
//! Settings (all optional): `velocity_window_ms` (60000), `velocity_max` (5),
//! `min_history` (5), `amount_factor` (8.0), `country_window_ms` (3600000).
//!
//! Per card, the state key `card:<card_id>` holds a compact binary record
//! (see [`CardState`]). Labels and weights: `velocity` 0.8, `amount` 0.85,
//! `country-change` 0.75; the score is `1 - Π(1 - w)` over the fired labels.

use std::borrow::Cow;

use serde::Deserialize;
use weir_plugin::{Record, Score, Scorer, Settings, log, state};

const VELOCITY_WEIGHT: f32 = 0.8;
const AMOUNT_WEIGHT: f32 = 0.85;
const COUNTRY_WEIGHT: f32 = 0.75;

/// The fields of a transaction the scorer reads.
#[derive(Deserialize)]
struct Transaction<'a> {
    #[serde(borrow)]
    card_id: Cow<'a, str>,
    amount: f64,
    #[serde(borrow)]
    country: Cow<'a, str>,
    ts: i64,
}

/// What the scorer remembers about one card.
#[derive(Debug, Default, PartialEq)]
struct CardState {
    /// Number of transactions seen.
    count: u64,
    /// Mean amount of those transactions.
    mean_amount: f64,
    /// Event time of the previous transaction (0 when `count == 0`).
    last_ts: i64,
    /// Country of the previous transaction.
    last_country: String,
    /// Event times of the most recent transactions, oldest first
    /// (at most `velocity_max`).
    recent: Vec<i64>,
}

/// Binary layout, little-endian: version `1` (u8), count (u64), mean amount
/// (f64), last ts (i64), country length (u8) + UTF-8 bytes, number of recent
/// timestamps (u16) + that many i64.
const STATE_VERSION: u8 = 1;

impl CardState {
    fn encode(&self) -> Vec<u8> {
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

    fn decode(bytes: &[u8]) -> Option<Self> {
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

/// The fraud scorer and its thresholds.
struct FraudScorer {
    velocity_window_ms: i64,
    velocity_max: usize,
    min_history: u64,
    amount_factor: f64,
    country_window_ms: i64,
}

impl FraudScorer {
    fn load(key: &str) -> CardState {
        match state::get(key) {
            None => CardState::default(),
            Some(bytes) => CardState::decode(&bytes).unwrap_or_else(|| {
                log::warn(&format!(
                    "fraud-scorer: unreadable state under {key:?}, starting afresh"
                ));
                CardState::default()
            }),
        }
    }

    /// Scores `txn` against `card`, then folds `txn` into `card`.
    fn score_and_update(&self, card: &mut CardState, txn: &Transaction<'_>) -> Score {
        let mut score = Score::new(0.0);
        let mut keep = 1.0_f32;

        let window_start = txn.ts.saturating_sub(self.velocity_window_ms);
        let velocity = 1 + card
            .recent
            .iter()
            .filter(|&&t| t > window_start && t <= txn.ts)
            .count();
        if velocity >= self.velocity_max {
            keep *= 1.0 - VELOCITY_WEIGHT;
            score = score.with_label("velocity");
        }

        if card.count >= self.min_history && txn.amount > self.amount_factor * card.mean_amount {
            keep *= 1.0 - AMOUNT_WEIGHT;
            score = score.with_label("amount");
        }

        if card.count > 0 && card.last_country != txn.country {
            let since = txn.ts.saturating_sub(card.last_ts);
            if (0..self.country_window_ms).contains(&since) {
                keep *= 1.0 - COUNTRY_WEIGHT;
                score = score.with_label("country-change");
            }
        }
        score.value = 1.0 - keep;

        card.count += 1;
        card.mean_amount += (txn.amount - card.mean_amount) / card.count as f64;
        card.last_ts = txn.ts;
        card.last_country.clear();
        card.last_country.push_str(&txn.country);
        card.recent.push(txn.ts);
        let excess = card.recent.len().saturating_sub(self.velocity_max);
        card.recent.drain(..excess);
        score
    }
}

impl Scorer for FraudScorer {
    fn init(settings: &Settings) -> Result<Self, String> {
        let scorer = Self {
            velocity_window_ms: settings.parse_or("velocity_window_ms", 60_000)?,
            velocity_max: settings.parse_or("velocity_max", 5)?,
            min_history: settings.parse_or("min_history", 5)?,
            amount_factor: settings.parse_or("amount_factor", 8.0)?,
            country_window_ms: settings.parse_or("country_window_ms", 3_600_000)?,
        };
        if scorer.velocity_max == 0 {
            return Err("setting `velocity_max` must be at least 1".to_owned());
        }
        Ok(scorer)
    }

    fn score(&mut self, record: &Record<'_>) -> Result<Score, String> {
        let txn: Transaction<'_> = serde_json::from_slice(record.value())
            .map_err(|e| format!("not a JSON card transaction: {e}"))?;
        let key = format!("card:{}", txn.card_id);
        let mut card = Self::load(&key);
        let score = self.score_and_update(&mut card, &txn);
        state::set(&key, &card.encode());
        Ok(score)
    }
}

weir_plugin::export_scorer!(FraudScorer);

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer() -> FraudScorer {
        FraudScorer::init(&Settings::default()).unwrap()
    }

    fn txn(amount: f64, country: &str, ts: i64) -> Transaction<'_> {
        Transaction {
            card_id: "c-1".into(),
            amount,
            country: country.into(),
            ts,
        }
    }

    #[test]
    fn state_round_trips() {
        let card = CardState {
            count: 3,
            mean_amount: 12.5,
            last_ts: 99,
            last_country: "DE".into(),
            recent: vec![1, 2, 99],
        };
        assert_eq!(CardState::decode(&card.encode()), Some(card));
        assert_eq!(CardState::decode(b"\x02"), None);
        assert_eq!(CardState::decode(b""), None);
    }

    #[test]
    fn signals() {
        let s = scorer();
        let mut card = CardState::default();
        // Five quiet transactions an hour apart: no signal.
        for i in 0..5 {
            let score = s.score_and_update(&mut card, &txn(10.0, "DE", i * 3_600_000));
            assert_eq!(score, Score::new(0.0));
        }
        // Amount spike.
        let score = s.score_and_update(&mut card, &txn(1000.0, "DE", 5 * 3_600_000));
        assert_eq!(score.labels, vec!["amount"]);
        assert!((score.value - 0.85).abs() < 1e-6);
        // Country change 1 minute later.
        let score = s.score_and_update(&mut card, &txn(10.0, "FR", 5 * 3_600_000 + 60_000));
        assert_eq!(score.labels, vec!["country-change"]);
        // Velocity: five within a minute.
        let base = 10 * 3_600_000;
        let mut last = Score::default();
        for i in 0..5 {
            last = s.score_and_update(&mut card, &txn(10.0, "FR", base + i * 1000));
        }
        assert_eq!(last.labels, vec!["velocity"]);
        assert!(card.recent.len() <= 5);
    }
}
