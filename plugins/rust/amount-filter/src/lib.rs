//! Filter plugin: keeps card transactions whose `amount` is above the `min_amount` setting.

use serde::Deserialize;
use weir_plugin::{Filter, Record, Settings};

/// Keeps transactions with `amount > min_amount`.
struct AmountFilter {
    min_amount: f64,
}

/// The only field this filter reads; serde skips the others.
#[derive(Deserialize)]
struct Transaction {
    amount: f64,
}

impl Filter for AmountFilter {
    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Self {
            min_amount: settings.require("min_amount")?,
        })
    }

    fn keep(&mut self, record: &Record<'_>) -> Result<bool, String> {
        let txn: Transaction = serde_json::from_slice(record.value())
            .map_err(|e| format!("not a JSON transaction with a numeric `amount`: {e}"))?;
        Ok(txn.amount > self.min_amount)
    }
}

weir_plugin::export_filter!(AmountFilter);
