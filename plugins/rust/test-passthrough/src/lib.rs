//! Test fixture (enricher): emits every record unchanged, with its key and headers.

use weir_plugin::{Emitter, Enricher, Record, Settings};

/// Emits each input record as is.
struct Passthrough;

impl Enricher for Passthrough {
    fn init(_settings: &Settings) -> Result<Self, String> {
        Ok(Passthrough)
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
        out.emit(record.value());
        Ok(())
    }
}

weir_plugin::export_enricher!(Passthrough);
