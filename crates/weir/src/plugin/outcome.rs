//! A plugin's decision on a batch, applied to the batch's records.

use crate::record::{Batch, Bytes, Header, Record};

/// A record that a plugin failed, with the plugin's message.
#[derive(Debug, Clone)]
pub struct FailedRecord {
    /// The input record, unchanged.
    pub record: Record,
    /// What went wrong.
    pub error: String,
}

/// What a stage made of a batch.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Records passed on (kept, emitted or scored), in order.
    pub records: Vec<Record>,
    /// Records that failed individually.
    pub failed: Vec<FailedRecord>,
    /// How many records a filter dropped.
    pub dropped: usize,
}

/// A record an enricher emitted for input record `input`.
#[derive(Debug)]
pub(crate) struct Emitted {
    pub(crate) input: usize,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Bytes,
    pub(crate) headers: Vec<Header>,
}

/// The decision of a plugin, validated against the batch.
#[derive(Debug)]
pub(crate) enum Decision {
    Keep {
        keep: Vec<bool>,
        errors: Vec<(usize, String)>,
    },
    Emit {
        records: Vec<Emitted>,
        errors: Vec<(usize, String)>,
    },
    Score {
        scores: Vec<f64>,
        labels: Vec<(usize, String)>,
        errors: Vec<(usize, String)>,
    },
}

fn split_errors(records: &mut [Option<Record>], errors: Vec<(usize, String)>) -> Vec<FailedRecord> {
    let mut failed = Vec::with_capacity(errors.len());
    for (i, error) in errors {
        if let Some(record) = records.get_mut(i).and_then(Option::take) {
            failed.push(FailedRecord { record, error });
        }
    }
    failed
}

impl Decision {
    /// Applies the decision to the batch it was made for.
    pub(crate) fn apply(self, batch: Batch) -> Outcome {
        // The common case first: a filter with no failed records.
        let this = match self {
            Decision::Keep { keep, errors } if errors.is_empty() => {
                let mut records = batch.records;
                let n = records.len();
                // In place: kept records before the first dropped one never move.
                let mut i = 0;
                records.retain(|_| {
                    let k = keep[i];
                    i += 1;
                    k
                });
                return Outcome {
                    dropped: n - records.len(),
                    records,
                    failed: Vec::new(),
                };
            }
            other => other,
        };
        let mut slots: Vec<Option<Record>> = batch.records.into_iter().map(Some).collect();
        match this {
            Decision::Keep { keep, errors } => {
                let failed = split_errors(&mut slots, errors);
                let mut out = Outcome {
                    failed,
                    ..Outcome::default()
                };
                for (slot, keep) in slots.into_iter().zip(keep) {
                    match slot {
                        Some(r) if keep => out.records.push(r),
                        Some(_) => out.dropped += 1,
                        None => {}
                    }
                }
                out
            }
            Decision::Emit { records, errors } => {
                // Linear in the batch and the output: one flag per input.
                let mut failed = vec![false; slots.len()];
                for (i, _) in &errors {
                    if let Some(f) = failed.get_mut(*i) {
                        *f = true;
                    }
                }
                let mut out = Outcome {
                    records: Vec::with_capacity(records.len()),
                    ..Outcome::default()
                };
                for e in records {
                    if failed.get(e.input).copied().unwrap_or(true) {
                        continue;
                    }
                    if let Some(Some(input)) = slots.get(e.input) {
                        out.records.push(Record {
                            key: e.key,
                            value: e.value,
                            headers: e.headers,
                            timestamp_ms: input.timestamp_ms,
                            position: input.position.clone(),
                            score: input.score,
                            labels: input.labels.clone(),
                        });
                    }
                }
                out.failed = split_errors(&mut slots, errors);
                out
            }
            Decision::Score {
                scores,
                labels,
                errors,
            } => {
                for (i, text) in labels {
                    if let Some(Some(r)) = slots.get_mut(i) {
                        r.labels.push(text);
                    }
                }
                let failed = split_errors(&mut slots, errors);
                let records = slots
                    .into_iter()
                    .zip(scores)
                    .filter_map(|(slot, score)| {
                        slot.map(|mut r| {
                            r.score = Some(score);
                            r
                        })
                    })
                    .collect();
                Outcome {
                    records,
                    failed,
                    dropped: 0,
                }
            }
        }
    }
}

impl Decision {
    /// A scorer's decision. A score that is not a finite number (NaN, ±∞)
    /// fails its record: it breaks the contract, and it would compare
    /// unpredictably in routes.
    pub(crate) fn scored(
        scores: Vec<f64>,
        labels: Vec<(usize, String)>,
        mut errors: Vec<(usize, String)>,
    ) -> Decision {
        if scores.iter().any(|s| !s.is_finite()) {
            let mut failed = vec![false; scores.len()];
            for (i, _) in &errors {
                if let Some(f) = failed.get_mut(*i) {
                    *f = true;
                }
            }
            for (i, score) in scores.iter().enumerate() {
                if !score.is_finite() && !failed[i] {
                    errors.push((
                        i,
                        format!(
                            "the plugin returned a score that is not a finite number ({score})"
                        ),
                    ));
                }
            }
        }
        Decision::Score {
            scores,
            labels,
            errors,
        }
    }
}
