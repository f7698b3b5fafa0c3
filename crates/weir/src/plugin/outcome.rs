//! Calling a plugin on a batch and applying its decisions to the records.

use super::bindings::{enricher_plugin, filter_plugin, scorer_plugin};
use super::instance::{Guest, PluginInstance, wrong_guest};
use super::marshal::{ColumnsReader, record_errors};
use super::{PluginError, PluginKind, reward, window};
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

pub(crate) struct Emitted {
    input: usize,
    key: Option<Bytes>,
    value: Bytes,
    headers: Vec<Header>,
}

/// The decision of a plugin, validated against the batch.
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
        scores: Vec<f32>,
        labels: Vec<(usize, String)>,
        errors: Vec<(usize, String)>,
    },
}

pub(crate) fn process(
    inst: &mut PluginInstance,
    batch: &Batch,
) -> Result<Option<Decision>, PluginError> {
    let n = batch.records.len();
    match inst.plugin().kind() {
        PluginKind::Aggregator => return Err(window::unsupported(inst, "process")),
        _ if n == 0 => return Ok(None),
        PluginKind::Reward => return reward::process(inst, batch).map(Some),
        PluginKind::Filter | PluginKind::Enricher | PluginKind::Scorer => {}
    }
    let raw = inst.call_guest(|store, guest, buffers| {
        let wit = buffers.pack(&batch.origin, &batch.partition, &batch.records);
        match guest {
            Guest::Filter(g) => g.call_process(store, wit).map(Raw::Filter),
            Guest::Enricher(g) => g.call_process(store, wit).map(Raw::Enricher),
            Guest::Scorer(g) => g.call_process(store, wit).map(Raw::Scorer),
            Guest::Reward(_) | Guest::Aggregator(_) => wrong_guest(),
        }
    })?;
    decide(raw, n).map(Some).map_err(|m| inst.contract(m))
}

enum Raw {
    Filter(filter_plugin::Verdicts),
    Enricher(enricher_plugin::Enrichment),
    Scorer(scorer_plugin::Scores),
}

fn decide(raw: Raw, n: usize) -> Result<Decision, String> {
    match raw {
        Raw::Filter(v) => {
            let mut keep = vec![false; n];
            for i in v.keep {
                let i = i as usize;
                *keep
                    .get_mut(i)
                    .ok_or_else(|| format!("kept record {i}, but the batch has {n} records"))? =
                    true;
            }
            Ok(Decision::Keep {
                keep,
                errors: record_errors(v.errors, n)?,
            })
        }
        Raw::Enricher(e) => {
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
        Raw::Scorer(s) => {
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
    }
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
                let failed_idx: Vec<usize> = errors.iter().map(|(i, _)| *i).collect();
                let mut out = Outcome::default();
                for e in records {
                    if failed_idx.contains(&e.input) {
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

pub(crate) fn from_scores(scores: Vec<f32>, errors: Vec<(usize, String)>) -> Decision {
    Decision::Score {
        scores,
        labels: Vec::new(),
        errors,
    }
}
