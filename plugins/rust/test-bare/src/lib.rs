//! Test fixture (filter): implements the raw generated interface and does nothing, to measure the bare boundary cost.

use weir_plugin::bindings::exports::weir::plugin::filter_plugin::{
    Batch, Guest, Settings, Verdicts,
};

/// Accepts any settings and returns empty verdicts without reading the batch.
struct Bare;

impl Guest for Bare {
    fn init(_settings: Settings) -> Result<(), String> {
        Ok(())
    }

    fn process(_batch: Batch) -> Verdicts {
        Verdicts {
            keep: Vec::new(),
            errors: Vec::new(),
        }
    }
}

weir_plugin::bindings::export!(Bare);
