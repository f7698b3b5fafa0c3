//! The `scorer` world: a score and labels per record.

use super::{Guest, columnar_process, init_call, world_exports};
use crate::plugin::bindings::scorer_plugin;
use crate::plugin::marshal::record_errors;
use crate::plugin::outcome::Decision;

world_exports!(ScorerExports, ScorerGuest, scorer_plugin);

impl Guest for ScorerGuest {
    init_call!();

    columnar_process!();
}

fn decide(s: scorer_plugin::Scores, n: usize) -> Result<Decision, String> {
    if s.scores.len() != n {
        return Err(format!(
            "returned {} scores for {n} records",
            s.scores.len()
        ));
    }
    let labels = s
        .labels
        .into_iter()
        .map(|l| {
            let i = l.index as usize;
            if i < n {
                Ok((i, l.text))
            } else {
                Err(format!("label for record {i} of {n}"))
            }
        })
        .collect::<Result<_, String>>()?;
    Ok(Decision::Score {
        scores: s.scores,
        labels,
        errors: record_errors(s.errors, n)?,
    })
}
