//! {{name}}: a filter that keeps card transactions whose `amount` is above
//! the `min_amount` setting (default 100).

use serde::Deserialize;
use weir_plugin::{Filter, Record, Settings};

struct Plugin {
    min_amount: f64,
}

#[derive(Deserialize)]
struct Transaction {
    amount: f64,
}

impl Filter for Plugin {
    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Plugin {
            min_amount: settings.parse_or("min_amount", 100.0)?,
        })
    }

    fn keep(&mut self, record: &Record<'_>) -> Result<bool, String> {
        let txn: Transaction = serde_json::from_slice(record.value())
            .map_err(|e| format!("`amount` is not a number: {e}"))?;
        Ok(txn.amount > self.min_amount)
    }
}

weir_plugin::export_filter!(Plugin);
