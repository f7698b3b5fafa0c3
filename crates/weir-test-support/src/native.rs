//! The example plugins' logic, compiled natively.

use serde::Deserialize;

/// The fraud scorer's rules: the very file the plugin compiles.
#[allow(missing_docs, dead_code, unreachable_pub)]
#[path = "../../../plugins/rust/fraud-scorer/src/logic.rs"]
pub mod fraud;

#[derive(Deserialize)]
struct Amount {
    amount: f64,
}

/// The amount filter's decision: keep when `amount > min_amount`.
pub fn amount_keep(value: &[u8], min_amount: f64) -> Result<bool, String> {
    let a: Amount = serde_json::from_slice(value).map_err(|e| e.to_string())?;
    Ok(a.amount > min_amount)
}

/// The fraud scorer with per-card state in a map, as a native service would
/// keep it.
#[derive(Debug, Default)]
pub struct FraudScorer {
    /// The thresholds.
    pub rules: fraud::Rules,
    cards: std::collections::HashMap<String, fraud::CardState>,
}

impl FraudScorer {
    /// Scores one transaction (JSON bytes) and updates the card's state.
    pub fn score(&mut self, value: &[u8]) -> Result<(f64, fraud::Labels), String> {
        let txn: fraud::Transaction<'_> =
            serde_json::from_slice(value).map_err(|e| e.to_string())?;
        let card = self.cards.entry(txn.card_id.to_string()).or_default();
        Ok(self.rules.score_and_update(card, &txn))
    }
}

/// The DeepRacer "follow the center line" reward, as the sample defines it.
pub fn center_line_reward(distance_from_center: f64, track_width: f64) -> f64 {
    if distance_from_center <= 0.1 * track_width {
        1.0
    } else if distance_from_center <= 0.25 * track_width {
        0.5
    } else if distance_from_center <= 0.5 * track_width {
        0.1
    } else {
        1e-3
    }
}
