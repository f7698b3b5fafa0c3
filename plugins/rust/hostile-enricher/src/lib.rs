//! Test fixture (enricher, raw bindings): passes every record on as it is,
//! and abuses the host when a record matches its trigger (see the shared
//! `attacks.rs`). Its own attacks: `many_outputs` (five million one-byte
//! records), `outputs_dup_errors` (two million outputs and two million
//! errors for the same record), `bad_input` (an output for an input past
//! the batch), `bad_offsets` (value offsets past the buffer).

#[path = "../../hostile-filter/src/attacks.rs"]
mod attacks;

use weir_plugin::bindings::exports::weir::plugin::enricher_plugin::{
    Batch, Enrichment, Guest, RecordError, Settings,
};
use weir_plugin::bindings::weir::plugin::types::Columns;

struct Hostile;

fn empty() -> Columns {
    Columns {
        values: Vec::new(),
        value_ends: Vec::new(),
        keys: Vec::new(),
        key_ends: Vec::new(),
        has_key: Vec::new(),
        header_ends: Vec::new(),
        header_data: Vec::new(),
        header_data_ends: Vec::new(),
    }
}

/// `count` one-byte records, all made from input `input`.
fn tiny(count: usize, input: u32) -> (Columns, Vec<u32>) {
    let mut c = empty();
    c.values = vec![b'x'; count];
    c.value_ends = (1..=count as u32).collect();
    c.key_ends = vec![0; count];
    c.has_key = vec![0; count];
    c.header_ends = vec![0; count];
    (c, vec![input; count])
}

impl Guest for Hostile {
    fn init(settings: Settings) -> Result<(), String> {
        attacks::init(settings)
    }

    fn process(batch: Batch) -> Enrichment {
        let n = batch.records.value_ends.len() as u32;
        let passed = Enrichment {
            records: Columns {
                values: batch.records.values.clone(),
                value_ends: batch.records.value_ends.clone(),
                keys: batch.records.keys.clone(),
                key_ends: batch.records.key_ends.clone(),
                has_key: batch.records.has_key.clone(),
                header_ends: batch.records.header_ends.clone(),
                header_data: batch.records.header_data.clone(),
                header_data_ends: batch.records.header_data_ends.clone(),
            },
            inputs: (0..n).collect(),
            errors: Vec::new(),
        };
        let Some((attack, at)) =
            attacks::world_attack(&batch.records.values, &batch.records.value_ends)
        else {
            return passed;
        };
        let at = at as u32;
        match attack.as_str() {
            "many_outputs" => {
                let (records, inputs) = tiny(5_000_000, at);
                Enrichment {
                    records,
                    inputs,
                    errors: Vec::new(),
                }
            }
            "outputs_dup_errors" => {
                let (records, inputs) = tiny(2_000_000, at);
                let errors = (0..2_000_000)
                    .map(|_| RecordError {
                        index: at,
                        message: String::new(),
                    })
                    .collect();
                Enrichment {
                    records,
                    inputs,
                    errors,
                }
            }
            "bad_input" => {
                let mut e = passed;
                if let Some(last) = e.inputs.last_mut() {
                    *last = n;
                }
                e
            }
            "bad_offsets" => {
                let mut e = passed;
                if let Some(last) = e.records.value_ends.last_mut() {
                    *last = u32::MAX;
                }
                e
            }
            other => panic!("unknown attack `{other}`"),
        }
    }
}

weir_plugin::bindings::export!(Hostile);
