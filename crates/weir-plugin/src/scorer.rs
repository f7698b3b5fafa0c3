//! Scorers: give each record a score and optional reasons.

use crate::__private::{Slot, init_slot, not_initialised, packed_records};
use crate::bindings::exports::weir::plugin::scorer_plugin::{Batch, Label, RecordError, Scores};
use crate::{Record, Records, Settings};

/// The score of one record, with the reasons for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    /// The score; the host routes records by comparing it with thresholds.
    pub value: f64,
    /// Reasons for the score, e.g. `velocity` or `country-change`.
    pub labels: Vec<String>,
}

impl Score {
    /// A score of `value` without labels.
    pub fn new(value: f64) -> Self {
        Self {
            value,
            labels: Vec::new(),
        }
    }

    /// Adds the reason `label`.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.labels.push(label.into());
        self
    }
}

impl From<f64> for Score {
    fn from(value: f64) -> Self {
        Self::new(value)
    }
}

/// A scorer plugin: gives each record a score and optional labels; the host
/// routes records by score.
///
/// Export the implementing type with [`export_scorer!`](crate::export_scorer).
///
/// ```rust,no_run
/// use weir_plugin::{Record, Score, Scorer, Settings};
///
/// /// Scores records by value size.
/// struct Size;
///
/// impl Scorer for Size {
///     fn init(_: &Settings) -> Result<Self, String> {
///         Ok(Size)
///     }
///     fn score(&mut self, record: &Record<'_>) -> Result<Score, String> {
///         let score = Score::new(record.value().len() as f64 / 1024.0);
///         Ok(if record.value().len() > 1024 { score.with_label("large") } else { score })
///     }
/// }
///
/// weir_plugin::export_scorer!(Size);
/// ```
pub trait Scorer: Sized + 'static {
    /// Builds the plugin from its settings; called once per instance before
    /// any record. An error rejects the plugin with the message.
    fn init(settings: &Settings) -> Result<Self, String>;

    /// The score of `record`. An `Err` fails only this record.
    fn score(&mut self, record: &Record<'_>) -> Result<Score, String>;

    /// The scores of a whole batch, one answer per record in order. The
    /// default scores record by record with [`score`](Self::score).
    /// Override it to work on the batch at once, e.g. to read the state
    /// of every record's key in one host call
    /// ([`state::get_many`](crate::state::get_many)) and write it back in
    /// one ([`state::set_many`](crate::state::set_many)). Records without
    /// an answer (a shorter list) fail.
    fn score_batch(&mut self, records: &[Record<'_>]) -> Vec<Result<Score, String>> {
        records.iter().map(|r| self.score(r)).collect()
    }
}

#[doc(hidden)]
pub fn scorer_init<T: Scorer>(
    slot: &'static Slot<T>,
    settings: Vec<(String, String)>,
) -> Result<(), String> {
    init_slot(slot, || T::init(&Settings::new(settings)))
}

#[doc(hidden)]
pub fn scorer_process<T: Scorer>(slot: &'static Slot<T>, batch: Batch) -> Scores {
    score(slot, &Records::of(&batch))
}

#[doc(hidden)]
pub fn scorer_process_packed<T: Scorer>(slot: &'static Slot<T>, batch: Vec<u8>) -> Scores {
    score(slot, &packed_records(&batch))
}

fn score<T: Scorer>(slot: &'static Slot<T>, batch: &Records<'_>) -> Scores {
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let n = batch.len();
        let Some(plugin) = guard.as_mut() else {
            return Scores {
                scores: vec![0.0; n],
                labels: Vec::new(),
                errors: not_initialised(n),
            };
        };
        let records: Vec<Record<'_>> = batch.iter().collect();
        let mut answers = plugin.score_batch(&records).into_iter();
        let mut scores = Vec::with_capacity(n);
        let mut labels = Vec::new();
        let mut errors = Vec::new();
        for index in 0..n as u32 {
            match answers.next() {
                Some(Ok(score)) => {
                    scores.push(score.value);
                    labels.extend(score.labels.into_iter().map(|text| Label { index, text }));
                }
                Some(Err(message)) => {
                    scores.push(0.0);
                    errors.push(RecordError { index, message });
                }
                None => {
                    scores.push(0.0);
                    errors.push(RecordError {
                        index,
                        message: format!("`score_batch` answered only {index} of {n} records"),
                    });
                }
            }
        }
        Scores {
            scores,
            labels,
            errors,
        }
    })
}

/// Exports a type implementing [`Scorer`](crate::Scorer) as the plugin's
/// `weir:plugin/scorer-plugin` interface. Use it once per plugin crate, at
/// the top level.
#[macro_export]
macro_rules! export_scorer {
    ($ty:ty) => {
        const _: () = {
            fn __weir_assert_scorer<T: $crate::Scorer>() {}
            let _ = __weir_assert_scorer::<$ty>;
        };

        const _: () = {
            use $crate::bindings::exports::weir::plugin::scorer_plugin as __weir_raw;

            ::std::thread_local! {
                static __WEIR_INSTANCE: ::core::cell::RefCell<::core::option::Option<$ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WeirScorerExport;

            impl __weir_raw::Guest for __WeirScorerExport {
                fn init(
                    settings: __weir_raw::Settings,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::scorer_init::<$ty>(&__WEIR_INSTANCE, settings)
                }

                fn process(batch: __weir_raw::Batch) -> __weir_raw::Scores {
                    $crate::__private::scorer_process::<$ty>(&__WEIR_INSTANCE, batch)
                }
            }

            $crate::__packed_export!(__WeirScorerExport, packed_scorer_plugin, Scores, |batch| {
                $crate::__private::scorer_process_packed::<$ty>(&__WEIR_INSTANCE, batch)
            });

    $crate::bindings::export!(__WeirScorerExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Len;
    impl Scorer for Len {
        fn init(_: &Settings) -> Result<Self, String> {
            Ok(Len)
        }
        fn score(&mut self, record: &Record<'_>) -> Result<Score, String> {
            match record.value().len() {
                0 => Err("empty".into()),
                n => Ok(Score::new(n as f64).with_label("a").with_label("b")),
            }
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Len>> = const { RefCell::new(None) };
    }

    #[test]
    fn lifecycle() {
        let batch =
            || crate::record::test_batch::batch(&[(None, b"ab", vec![]), (None, b"", vec![])]);
        assert_eq!(scorer_process(&SLOT, batch()).errors.len(), 2);
        scorer_init(&SLOT, vec![]).unwrap();
        let s = scorer_process(&SLOT, batch());
        assert_eq!(s.scores, vec![2.0, 0.0]);
        assert_eq!(s.labels.len(), 2);
        assert_eq!((s.labels[1].index, s.labels[1].text.as_str()), (0, "b"));
        assert_eq!(s.errors.len(), 1);
        assert_eq!(s.errors[0].index, 1);
        let p = scorer_process_packed(&SLOT, crate::record::test_batch::pack(&batch()));
        assert_eq!((p.scores, p.labels.len(), p.errors.len()), (s.scores, 2, 1));
    }
}
