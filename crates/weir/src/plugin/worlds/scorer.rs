//! The `scorer` world: a score and labels per record.

use super::{Guest, Refused, batch_process, init_call, world_exports};
use crate::plugin::bindings::{packed_scorer_plugin, scorer_plugin};
use crate::plugin::budget::cut;
use crate::plugin::marshal::record_errors_within;
use crate::plugin::outcome::Decision;
use crate::plugin::{Limits, QuotaExceeded};

world_exports!(
    ScorerExports,
    ScorerGuest,
    scorer_plugin,
    packed_scorer_plugin = crate::plugin::PluginKind::Scorer
);

impl Guest for ScorerGuest {
    init_call!();

    batch_process!();
}

fn decide(s: scorer_plugin::Scores, n: usize, limits: &Limits) -> Result<Decision, Refused> {
    if s.scores.len() != n {
        return Err(format!("returned {} scores for {n} records", s.scores.len()).into());
    }
    if s.labels.len() > limits.output_records() {
        return Err(QuotaExceeded::new(
            "output_records",
            limits.output_records,
            "",
            format!("the call returned {} labels", s.labels.len()),
        )
        .into());
    }
    let max = limits.message_bytes();
    let labels = s
        .labels
        .into_iter()
        .map(|l| {
            let i = l.index as usize;
            if i < n {
                Ok((i, cut(l.text, max)))
            } else {
                Err(format!("label for record {i} of {n}"))
            }
        })
        .collect::<Result<_, String>>()?;
    let errors = record_errors_within(s.errors, n, limits)?;
    Ok(Decision::scored(s.scores, labels, errors))
}
