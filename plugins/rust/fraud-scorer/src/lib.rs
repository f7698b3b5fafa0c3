//! Scorer plugin: scores card transactions for fraud from per-card state (velocity, amount spikes, country changes).
//!
//! Settings (all optional): `velocity_window_ms` (60000), `velocity_max` (5),
//! `min_history` (5), `amount_factor` (8.0), `country_window_ms` (3600000).
//!
//! Per card, the state key `card:<card_id>` holds a compact binary record
//! (see [`CardState`]). Labels and weights: `velocity` 0.8, `amount` 0.85,
//! `country-change` 0.75; the score is `1 - Π(1 - w)` over the fired labels.

mod logic;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

use logic::{CardState, Rules, Transaction};
use weir_plugin::{Record, Score, Scorer, Settings, log, state};

/// The fraud scorer: the rules plus the per-card state in `state`.
struct FraudScorer {
    rules: Rules,
}

/// The card state stored under `key` as `bytes`, or a fresh one.
fn card_state(key: &str, bytes: Option<&[u8]>) -> CardState {
    match bytes {
        None => CardState::default(),
        Some(bytes) => CardState::decode(bytes).unwrap_or_else(|| {
            log::warn(&format!(
                "fraud-scorer: unreadable state under {key:?}, starting afresh"
            ));
            CardState::default()
        }),
    }
}

fn parse<'a>(record: &'a Record<'_>) -> Result<Transaction<'a>, String> {
    serde_json::from_slice(record.value()).map_err(|e| format!("not a JSON card transaction: {e}"))
}

fn scored(value: f64, labels: logic::Labels) -> Score {
    let mut score = Score::new(value);
    for l in labels {
        score = score.with_label(l);
    }
    score
}

impl Scorer for FraudScorer {
    fn init(settings: &Settings) -> Result<Self, String> {
        let d = Rules::default();
        let rules = Rules {
            velocity_window_ms: settings.parse_or("velocity_window_ms", d.velocity_window_ms)?,
            velocity_max: settings.parse_or("velocity_max", d.velocity_max)?,
            min_history: settings.parse_or("min_history", d.min_history)?,
            amount_factor: settings.parse_or("amount_factor", d.amount_factor)?,
            country_window_ms: settings.parse_or("country_window_ms", d.country_window_ms)?,
        };
        if rules.velocity_max == 0 {
            return Err("setting `velocity_max` must be at least 1".to_owned());
        }
        Ok(Self { rules })
    }

    fn score(&mut self, record: &Record<'_>) -> Result<Score, String> {
        let txn = parse(record)?;
        let key = format!("card:{}", txn.card_id);
        let mut card = card_state(&key, state::get(&key).as_deref());
        let (value, labels) = self.rules.score_and_update(&mut card, &txn);
        state::set(&key, &card.encode());
        Ok(scored(value, labels))
    }

    /// The whole batch with two host calls: every card's state read at
    /// once, the records scored in order (a card seen twice sees its first
    /// transaction), every touched card's state written back at once.
    fn score_batch(&mut self, records: &[Record<'_>]) -> Vec<Result<Score, String>> {
        let txns: Vec<Result<Transaction<'_>, String>> = records.iter().map(parse).collect();
        // Fixed hash keys: a random seed would need WASI.
        let mut slot_of: HashMap<&str, usize, BuildHasherDefault<DefaultHasher>> =
            HashMap::default();
        let mut keys: Vec<String> = Vec::new();
        for txn in txns.iter().flatten() {
            slot_of.entry(&txn.card_id).or_insert_with(|| {
                keys.push(format!("card:{}", txn.card_id));
                keys.len() - 1
            });
        }
        let stored = state::get_many(&keys);
        let mut cards: Vec<CardState> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| card_state(key, stored.get(i)))
            .collect();
        let answers = txns
            .iter()
            .map(|txn| {
                let txn = txn.as_ref().map_err(Clone::clone)?;
                let card = &mut cards[slot_of[&*txn.card_id]];
                let (value, labels) = self.rules.score_and_update(card, txn);
                Ok(scored(value, labels))
            })
            .collect();
        let values: Vec<Vec<u8>> = cards.iter().map(CardState::encode).collect();
        state::set_many(&keys, &values);
        answers
    }
}

weir_plugin::export_scorer!(FraudScorer);

#[cfg(test)]
mod tests {
    use super::logic::*;

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
        let s = Rules::default();
        let mut card = CardState::default();
        // Five quiet transactions an hour apart: no signal.
        for i in 0..5 {
            let (score, labels) = s.score_and_update(&mut card, &txn(10.0, "DE", i * 3_600_000));
            assert_eq!((score, labels.len()), (0.0, 0));
        }
        // Amount spike.
        let (score, labels) = s.score_and_update(&mut card, &txn(1000.0, "DE", 5 * 3_600_000));
        assert_eq!(labels, vec!["amount"]);
        assert!((score - 0.85).abs() < 1e-6);
        // Country change 1 minute later.
        let (_, labels) = s.score_and_update(&mut card, &txn(10.0, "FR", 5 * 3_600_000 + 60_000));
        assert_eq!(labels, vec!["country-change"]);
        // Velocity: five within a minute.
        let base = 10 * 3_600_000;
        let mut last = Vec::new();
        for i in 0..5 {
            last = s
                .score_and_update(&mut card, &txn(10.0, "FR", base + i * 1000))
                .1;
        }
        assert_eq!(last, vec!["velocity"]);
        assert!(card.recent.len() <= 5);
    }
}
