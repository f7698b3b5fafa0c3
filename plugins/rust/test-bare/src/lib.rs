//! Test fixture (filter): implements the raw generated interface and keeps every record without reading any, to measure the bare boundary cost.

use weir_plugin::bindings::exports::weir::plugin::filter_plugin::{
    Batch, Guest, Settings, Verdicts,
};

/// Accepts any settings and keeps every record without reading it.
struct Bare;

impl Guest for Bare {
    fn init(_settings: Settings) -> Result<(), String> {
        Ok(())
    }

    fn process(batch: Batch) -> Verdicts {
        Verdicts {
            keep: (0..batch.records.value_ends.len() as u32).collect(),
            errors: Vec::new(),
        }
    }
}

weir_plugin::bindings::export!(Bare);
