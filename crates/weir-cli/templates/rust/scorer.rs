//! {{name}}: a scorer that scores card transactions by amount: `amount /
//! 1000`, at most 1, with the label `large` from 500 on.

use serde::Deserialize;
use weir_plugin::{Record, Score, Scorer, Settings};

struct Plugin;

#[derive(Deserialize)]
struct Transaction {
    amount: f64,
}

impl Scorer for Plugin {
    fn init(_settings: &Settings) -> Result<Self, String> {
        Ok(Plugin)
    }

    fn score(&mut self, record: &Record<'_>) -> Result<Score, String> {
        let txn: Transaction = serde_json::from_slice(record.value())
            .map_err(|e| format!("`amount` is not a number: {e}"))?;
        let score = Score::new((txn.amount / 1000.0).min(1.0));
        Ok(if txn.amount >= 500.0 {
            score.with_label("large")
        } else {
            score
        })
    }
}

weir_plugin::export_scorer!(Plugin);
