//! {{name}}: an enricher that adds `"large": true|false` (amount at least
//! the `large` setting, default 500) to each card transaction.

use weir_plugin::{Emitter, Enricher, Record, Settings};

struct Plugin {
    large: f64,
}

impl Enricher for Plugin {
    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Plugin {
            large: settings.parse_or("large", 500.0)?,
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
        let mut txn: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(record.value()).map_err(|e| format!("not a JSON object: {e}"))?;
        let amount = txn
            .get("amount")
            .and_then(serde_json::Value::as_f64)
            .ok_or("`amount` is not a number")?;
        txn.insert("large".into(), (amount >= self.large).into());
        let value = serde_json::to_vec(&txn).map_err(|e| e.to_string())?;
        out.emit(&value);
        Ok(())
    }
}

weir_plugin::export_enricher!(Plugin);
