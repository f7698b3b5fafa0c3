//! Test fixture (enricher): emits every record unchanged, with its key and
//! headers. With the setting `tag_batch = true` it emits
//! `{"batch_index": I, "value": V}` instead, where I is the record's index
//! in the batch the plugin was called with (0 starts a new batch) and V the
//! original value, which must then be JSON: the outputs show how the
//! records were batched.

use weir_plugin::{Emitter, Enricher, Record, Settings};

/// Emits each input record as is, or tagged with its index in the batch.
struct Passthrough {
    tag_batch: bool,
}

impl Enricher for Passthrough {
    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Passthrough {
            tag_batch: settings.parse_or("tag_batch", false)?,
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
        if self.tag_batch {
            let mut value = format!("{{\"batch_index\":{},\"value\":", record.index()).into_bytes();
            value.extend_from_slice(record.value());
            value.push(b'}');
            out.emit(&value);
        } else {
            out.emit(record.value());
        }
        Ok(())
    }
}

weir_plugin::export_enricher!(Passthrough);
