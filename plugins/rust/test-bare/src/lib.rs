//! Test fixture (filter): implements the raw generated interfaces, columnar
//! and packed, and keeps every record without reading any, to measure the
//! bare boundary cost.

use weir_plugin::Records;
use weir_plugin::bindings::exports::weir::plugin::filter_plugin::{Batch, Settings, Verdicts};
use weir_plugin::bindings::exports::weir::plugin::{filter_plugin, packed_filter_plugin};

/// Accepts any settings and keeps every record without reading it.
struct Bare;

fn keep_all(n: usize) -> Verdicts {
    Verdicts {
        keep: (0..n as u32).collect(),
        errors: Vec::new(),
    }
}

impl filter_plugin::Guest for Bare {
    fn init(_settings: Settings) -> Result<(), String> {
        Ok(())
    }

    fn process(batch: Batch) -> Verdicts {
        keep_all(batch.records.value_ends.len())
    }
}

impl packed_filter_plugin::Guest for Bare {
    fn process(batch: Vec<u8>) -> Verdicts {
        keep_all(Records::packed(&batch).map_or(0, |r| r.len()))
    }
}

weir_plugin::bindings::export!(Bare);
