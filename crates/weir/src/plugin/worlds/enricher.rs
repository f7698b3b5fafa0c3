//! The `enricher` world: each record becomes zero or more records.

use super::{Guest, Refused, batch_process, init_call, world_exports};
use crate::plugin::Limits;
use crate::plugin::bindings::{enricher_plugin, packed_enricher_plugin};
use crate::plugin::marshal::{ColumnsReader, check_output, record_errors_within};
use crate::plugin::outcome::{Decision, Emitted};

world_exports!(
    EnricherExports,
    EnricherGuest,
    enricher_plugin,
    packed_enricher_plugin = crate::plugin::PluginKind::Enricher
);

impl Guest for EnricherGuest {
    init_call!();

    batch_process!();
}

fn decide(e: enricher_plugin::Enrichment, n: usize, limits: &Limits) -> Result<Decision, Refused> {
    check_output(&e.records, limits)?;
    let errors = record_errors_within(e.errors, n, limits)?;
    let reader = ColumnsReader::new(e.records);
    if reader.len() != e.inputs.len() {
        return Err(format!(
            "emitted {} records but {} input indices",
            reader.len(),
            e.inputs.len()
        )
        .into());
    }
    let mut records = Vec::with_capacity(reader.len());
    for (j, &input) in e.inputs.iter().enumerate() {
        let input = input as usize;
        if input >= n {
            return Err(format!(
                "emitted a record for input {input}, but the batch has {n} records"
            )
            .into());
        }
        let (key, value, headers) = reader.record(j)?;
        records.push(Emitted {
            input,
            key,
            value,
            headers,
        });
    }
    Ok(Decision::Emit { records, errors })
}
