//! The `filter` world: keep or drop each record.

use super::{Guest, Refused, batch_process, init_call, world_exports};
use crate::plugin::Limits;
use crate::plugin::bindings::{filter_plugin, packed_filter_plugin};
use crate::plugin::marshal::record_errors_within;
use crate::plugin::outcome::Decision;

world_exports!(
    FilterExports,
    FilterGuest,
    filter_plugin,
    packed_filter_plugin = crate::plugin::PluginKind::Filter
);

impl Guest for FilterGuest {
    init_call!();

    batch_process!();
}

fn decide(v: filter_plugin::Verdicts, n: usize, limits: &Limits) -> Result<Decision, Refused> {
    let mut keep = vec![false; n];
    for i in v.keep {
        let i = i as usize;
        *keep
            .get_mut(i)
            .ok_or_else(|| format!("kept record {i}, but the batch has {n} records"))? = true;
    }
    Ok(Decision::Keep {
        keep,
        errors: record_errors_within(v.errors, n, limits)?,
    })
}
