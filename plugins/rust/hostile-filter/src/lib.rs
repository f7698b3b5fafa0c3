//! Test fixture (filter, raw bindings): keeps every record, and abuses the
//! host when a record matches its trigger (see `attacks.rs`). Its own
//! attacks: `dup_errors` (two million errors for one record), `bad_keep`
//! (keeps a record past the batch), `bad_error` (fails a record past the
//! batch), `error_huge` (a 16 MiB error message).

mod attacks;

use weir_plugin::bindings::exports::weir::plugin::filter_plugin::{
    Batch, Guest, RecordError, Settings, Verdicts,
};

struct Hostile;

impl Guest for Hostile {
    fn init(settings: Settings) -> Result<(), String> {
        attacks::init(settings)
    }

    fn process(batch: Batch) -> Verdicts {
        let n = batch.records.value_ends.len() as u32;
        let mut verdicts = Verdicts {
            keep: (0..n).collect(),
            errors: Vec::new(),
        };
        let Some((attack, at)) =
            attacks::world_attack(&batch.records.values, &batch.records.value_ends)
        else {
            return verdicts;
        };
        let at = at as u32;
        match attack.as_str() {
            "dup_errors" => {
                verdicts.errors = (0..2_000_000)
                    .map(|_| RecordError {
                        index: at,
                        message: String::new(),
                    })
                    .collect();
            }
            "bad_keep" => verdicts.keep.push(n + 5),
            "bad_error" => verdicts.errors.push(RecordError {
                index: n,
                message: "past the batch".into(),
            }),
            "error_huge" => verdicts.errors.push(RecordError {
                index: at,
                message: "E".repeat(16 << 20),
            }),
            other => panic!("unknown attack `{other}`"),
        }
        verdicts
    }
}

weir_plugin::bindings::export!(Hostile);
