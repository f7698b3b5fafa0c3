//! Test fixture (aggregator): counts the records of each window, and
//! misbehaves on request.
//!
//! The accumulator is the count as 8 little-endian bytes, followed by
//! zeros up to the setting `accumulator_bytes` (default 8): a plugin that
//! keeps large accumulators. `emit` panics (a wasm trap) for a window whose
//! key contains `bad`; for any other window it emits, keyed by the window's
//! key, `{"key":"<key>","start":<ms>,"end":<ms>,"count":<n>}`.

use weir_plugin::{Aggregator, Emitter, Record, Settings, Window};

/// The aggregator: how long its accumulators are.
struct WindowChaos {
    accumulator_bytes: usize,
}

impl Aggregator for WindowChaos {
    type Accumulator = u64;

    fn init(settings: &Settings) -> Result<Self, String> {
        let accumulator_bytes: usize = settings.parse_or("accumulator_bytes", 8)?;
        Ok(Self {
            accumulator_bytes: accumulator_bytes.max(8),
        })
    }

    fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<u64, String> {
        match saved {
            None => Ok(0),
            Some(bytes) => bytes
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .ok_or_else(|| format!("window-chaos: a {}-byte accumulator", bytes.len())),
        }
    }

    fn accumulate(&mut self, _: &Window<'_>, n: &mut u64, _: &Record<'_>) -> Result<(), String> {
        *n += 1;
        Ok(())
    }

    fn save(&mut self, n: &u64) -> Vec<u8> {
        let mut out = n.to_le_bytes().to_vec();
        out.resize(self.accumulator_bytes, 0);
        out
    }

    fn emit(&mut self, window: &Window<'_>, n: u64, out: &mut Emitter<'_>) {
        let key = window.key_str().unwrap_or_default();
        if key.contains("bad") {
            panic!("window-chaos: emit fails for the window of key `{key}`");
        }
        let value = format!(
            r#"{{"key":"{key}","start":{},"end":{},"count":{n}}}"#,
            window.start, window.end
        );
        out.emit(value.as_bytes());
    }
}

weir_plugin::export_aggregator!(WindowChaos);
