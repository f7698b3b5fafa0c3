//! A plugin's answer on a batch it was shown by reference.

use super::PluginKind;
use super::instance::PluginInstance;
use super::outcome::{Decision, Outcome};
use super::{PluginError, window};
use crate::record::{Batch, Bytes, Header};

/// What a plugin decided for a batch lent to it with
/// [`PluginInstance::decide`]: per-record answers, with the batch left
/// where it was.
///
/// This is the cheapest way to call a plugin when the caller keeps its
/// records (for instance to route them itself): nothing is cloned or moved,
/// and [`apply`](Self::apply) turns the verdict into the same
/// [`Outcome`] that [`PluginInstance::process`] returns.
#[derive(Debug)]
pub struct Verdict {
    decision: Decision,
}

/// A record an enricher emitted, in a [`Verdict`].
#[derive(Debug, Clone, Copy)]
pub struct EmittedRecord<'a> {
    /// The index of the input record it was made from.
    pub input: usize,
    /// Its key.
    pub key: Option<&'a Bytes>,
    /// Its value.
    pub value: &'a Bytes,
    /// Its headers.
    pub headers: &'a [Header],
}

impl Verdict {
    /// For a filter, whether it keeps record `i` (a failed record is not
    /// kept); `None` for other kinds of plugin and for a record past the
    /// batch.
    pub fn kept(&self, i: usize) -> Option<bool> {
        match &self.decision {
            Decision::Keep { keep, errors } => keep
                .get(i)
                .map(|k| *k && !errors.iter().any(|(e, _)| *e == i)),
            _ => None,
        }
    }

    /// For a scorer, the score of record `i`; `None` for other kinds of
    /// plugin, for a record past the batch, and for a failed record.
    pub fn score(&self, i: usize) -> Option<f64> {
        match &self.decision {
            Decision::Score { scores, errors, .. } if !errors.iter().any(|(e, _)| *e == i) => {
                scores.get(i).copied()
            }
            _ => None,
        }
    }

    /// For a scorer, the labels it gave record `i`, in order.
    pub fn labels(&self, i: usize) -> impl Iterator<Item = &str> {
        let labels: &[(usize, String)] = match &self.decision {
            Decision::Score { labels, .. } => labels,
            _ => &[],
        };
        labels
            .iter()
            .filter(move |(r, _)| *r == i)
            .map(|(_, text)| text.as_str())
    }

    /// For an enricher, the records it emitted, in order (also those made
    /// from records that failed, which [`apply`](Self::apply) leaves out).
    pub fn emitted(&self) -> impl Iterator<Item = EmittedRecord<'_>> {
        let records: &[super::outcome::Emitted] = match &self.decision {
            Decision::Emit { records, .. } => records,
            _ => &[],
        };
        records.iter().map(|e| EmittedRecord {
            input: e.input,
            key: e.key.as_ref(),
            value: &e.value,
            headers: &e.headers,
        })
    }

    /// The records that failed: their index in the batch and the plugin's
    /// message.
    pub fn errors(&self) -> impl Iterator<Item = (usize, &str)> {
        let errors = match &self.decision {
            Decision::Keep { errors, .. }
            | Decision::Emit { errors, .. }
            | Decision::Score { errors, .. } => errors,
        };
        errors.iter().map(|(i, e)| (*i, e.as_str()))
    }

    /// Applies the verdict to the batch it was made for (the batch given
    /// to [`PluginInstance::decide`]).
    pub fn apply(self, batch: Batch) -> Outcome {
        self.decision.apply(batch)
    }
}

impl PluginInstance {
    /// Runs one batch through the plugin without taking it: the plugin
    /// reads the records where they are, and the answer comes back as a
    /// [`Verdict`].
    ///
    /// Per-record errors fail only their records ([`Verdict::errors`]); a
    /// trap fails the call. Aggregators have no `process` call: they fail
    /// with [`PluginError::UnsupportedCall`].
    pub fn decide(&mut self, batch: &Batch) -> Result<Verdict, PluginError> {
        if self.plugin().kind() == PluginKind::Aggregator {
            return Err(window::unsupported(self, "process"));
        }
        if batch.records.is_empty() {
            return Ok(Verdict {
                decision: Decision::Keep {
                    keep: Vec::new(),
                    errors: Vec::new(),
                },
            });
        }
        let decided = self.call_guest(|store, guest, buffers| {
            guest
                .process(store, buffers, batch)
                .unwrap_or_else(|| Ok(Err("the plugin has no `process` call".to_string().into())))
        });
        self.settle_own_state(matches!(decided, Ok(Ok(_))));
        match decided? {
            Ok(decision) => Ok(Verdict { decision }),
            Err(refused) => Err(self.refused(refused)),
        }
    }
}
