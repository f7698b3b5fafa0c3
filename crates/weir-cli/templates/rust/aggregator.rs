//! {{name}}: an aggregator that counts and sums card transactions per card
//! (the record key) and window, emitting
//! `{"card":…,"start":…,"count":…,"total":…}` when a window closes.

use serde::Deserialize;
use weir_plugin::{Aggregator, Emitter, Record, Settings, Window};

struct Plugin;

/// Transactions so far and their total amount.
#[derive(Default)]
struct Sum {
    count: u64,
    total: f64,
}

#[derive(Deserialize)]
struct Transaction {
    amount: f64,
}

impl Aggregator for Plugin {
    type Accumulator = Sum;

    fn init(_settings: &Settings) -> Result<Self, String> {
        Ok(Plugin)
    }

    fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<Sum, String> {
        let Some(bytes) = saved else {
            return Ok(Sum::default());
        };
        let (count, total) = bytes.split_at_checked(8).ok_or("short accumulator")?;
        Ok(Sum {
            count: u64::from_le_bytes(count.try_into().map_err(|_| "bad count")?),
            total: f64::from_le_bytes(total.try_into().map_err(|_| "bad total")?),
        })
    }

    fn accumulate(&mut self, _: &Window<'_>, sum: &mut Sum, record: &Record<'_>) -> Result<(), String> {
        let txn: Transaction = serde_json::from_slice(record.value())
            .map_err(|e| format!("`amount` is not a number: {e}"))?;
        sum.count += 1;
        sum.total += txn.amount;
        Ok(())
    }

    fn save(&mut self, sum: &Sum) -> Vec<u8> {
        [sum.count.to_le_bytes(), sum.total.to_le_bytes()].concat()
    }

    fn emit(&mut self, window: &Window<'_>, sum: Sum, out: &mut Emitter<'_>) {
        let summary = serde_json::json!({
            "card": window.key_str(),
            "start": window.start,
            "count": sum.count,
            "total": sum.total,
        });
        out.emit(summary.to_string().as_bytes());
    }
}

weir_plugin::export_aggregator!(Plugin);
