//! The `enricher` world: each record becomes zero or more records.

use super::{Guest, columnar_process, init_call, world_exports};
use crate::plugin::bindings::enricher_plugin;
use crate::plugin::marshal::{ColumnsReader, record_errors};
use crate::plugin::outcome::{Decision, Emitted};

world_exports!(EnricherExports, EnricherGuest, enricher_plugin);

impl Guest for EnricherGuest {
    init_call!();

    columnar_process!();
}

fn decide(e: enricher_plugin::Enrichment, n: usize) -> Result<Decision, String> {
    let reader = ColumnsReader::new(e.records);
    if reader.len() != e.inputs.len() {
        return Err(format!(
            "emitted {} records but {} input indices",
            reader.len(),
            e.inputs.len()
        ));
    }
    let mut records = Vec::with_capacity(reader.len());
    for (j, &input) in e.inputs.iter().enumerate() {
        let input = input as usize;
        if input >= n {
            return Err(format!(
                "emitted a record for input {input}, but the batch has {n} records"
            ));
        }
        let (key, value, headers) = reader.record(j)?;
        records.push(Emitted {
            input,
            key,
            value,
            headers,
        });
    }
    Ok(Decision::Emit {
        records,
        errors: record_errors(e.errors, n)?,
    })
}
