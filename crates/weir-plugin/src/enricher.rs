//! Enrichers: map each record to zero or more records.

use crate::__private::{Slot, init_slot, not_initialised, packed_records};
use crate::bindings::exports::weir::plugin::enricher_plugin::{Batch, Enrichment, RecordError};
use crate::record::{columns_with_capacity, push_record, truncate};
use crate::{Record, Records, Settings};

/// Collects the records an [`Enricher`] emits for one input record.
///
/// Emitted records take the input's timestamp and source position. If
/// `enrich` returns an error, the records emitted during that call are
/// discarded and only the error is reported.
pub struct Emitter<'a> {
    out: &'a mut Enrichment,
    input: Record<'a>,
}

impl<'a> Emitter<'a> {
    /// Emits a record with `value` that keeps the input record's key and
    /// headers.
    pub fn emit(&mut self, value: &[u8]) {
        push_record(
            &mut self.out.records,
            self.input.key(),
            value,
            self.input.raw_headers(),
        );
        self.out.inputs.push(self.input.index());
    }

    /// Emits a record with the given key (`None`: no key), value and headers.
    pub fn emit_with(&mut self, key: Option<&[u8]>, value: &[u8], headers: &[(&str, &[u8])]) {
        push_record(
            &mut self.out.records,
            key,
            value,
            headers.iter().map(|(n, v)| (n.as_bytes(), *v)),
        );
        self.out.inputs.push(self.input.index());
    }
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("input", &self.input.index())
            .field("emitted", &self.out.inputs.len())
            .finish()
    }
}

/// An enricher plugin: maps each record to zero or more records (transform,
/// flat-map, lookup enrichment).
///
/// Export the implementing type with [`export_enricher!`](crate::export_enricher).
///
/// ```rust,no_run
/// use weir_plugin::{Emitter, Enricher, Record, Settings};
///
/// /// Upper-cases UTF-8 values and drops the others.
/// struct Upper;
///
/// impl Enricher for Upper {
///     fn init(_: &Settings) -> Result<Self, String> {
///         Ok(Upper)
///     }
///     fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
///         if let Some(text) = record.value_str() {
///             out.emit(text.to_uppercase().as_bytes());
///         }
///         Ok(())
///     }
/// }
///
/// weir_plugin::export_enricher!(Upper);
/// ```
pub trait Enricher: Sized + 'static {
    /// Builds the plugin from its settings; called once per instance before
    /// any record. An error rejects the plugin with the message.
    fn init(settings: &Settings) -> Result<Self, String>;

    /// Emits the records made from `record` through `out`. An `Err` fails
    /// only this record and discards what this call emitted.
    fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String>;
}

#[doc(hidden)]
pub fn enricher_init<T: Enricher>(
    slot: &'static Slot<T>,
    settings: Vec<(String, String)>,
) -> Result<(), String> {
    init_slot(slot, || T::init(&Settings::new(settings)))
}

#[doc(hidden)]
pub fn enricher_process<T: Enricher>(slot: &'static Slot<T>, batch: Batch) -> Enrichment {
    enrich(slot, &Records::of(&batch))
}

#[doc(hidden)]
pub fn enricher_process_packed<T: Enricher>(slot: &'static Slot<T>, batch: Vec<u8>) -> Enrichment {
    enrich(slot, &packed_records(&batch))
}

fn enrich<T: Enricher>(slot: &'static Slot<T>, batch: &Records<'_>) -> Enrichment {
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let n = batch.len();
        let Some(plugin) = guard.as_mut() else {
            return Enrichment {
                records: columns_with_capacity(0, 0),
                inputs: Vec::new(),
                errors: not_initialised(n),
            };
        };
        let mut out = Enrichment {
            records: columns_with_capacity(n, batch.value_bytes()),
            inputs: Vec::with_capacity(n),
            errors: Vec::new(),
        };
        for i in 0..n {
            let index = i as u32;
            let record = Record::new(batch, index);
            let mark = out.inputs.len();
            let mut emitter = Emitter {
                out: &mut out,
                input: record,
            };
            if let Err(message) = plugin.enrich(&record, &mut emitter) {
                truncate(&mut out.records, mark);
                out.inputs.truncate(mark);
                out.errors.push(RecordError { index, message });
            }
        }
        out
    })
}

/// Exports a type implementing [`Enricher`](crate::Enricher) as the plugin's
/// `weir:plugin/enricher-plugin` interface. Use it once per plugin crate, at
/// the top level.
#[macro_export]
macro_rules! export_enricher {
    ($ty:ty) => {
        const _: () = {
            fn __weir_assert_enricher<T: $crate::Enricher>() {}
            let _ = __weir_assert_enricher::<$ty>;
        };

        const _: () = {
            use $crate::bindings::exports::weir::plugin::enricher_plugin as __weir_raw;

            ::std::thread_local! {
                static __WEIR_INSTANCE: ::core::cell::RefCell<::core::option::Option<$ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WeirEnricherExport;

            impl __weir_raw::Guest for __WeirEnricherExport {
                fn init(
                    settings: __weir_raw::Settings,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::enricher_init::<$ty>(&__WEIR_INSTANCE, settings)
                }

                fn process(batch: __weir_raw::Batch) -> __weir_raw::Enrichment {
                    $crate::__private::enricher_process::<$ty>(&__WEIR_INSTANCE, batch)
                }
            }

            $crate::__packed_export!(
                __WeirEnricherExport,
                packed_enricher_plugin,
                Enrichment,
                |batch| $crate::__private::enricher_process_packed::<$ty>(&__WEIR_INSTANCE, batch)
            );

    $crate::bindings::export!(__WeirEnricherExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_batch::{batch, pack};
    use crate::record::{Words, item};
    use std::cell::RefCell;

    struct Dup;
    impl Enricher for Dup {
        fn init(_: &Settings) -> Result<Self, String> {
            Ok(Dup)
        }
        fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
            out.emit(record.value());
            out.emit_with(None, b"extra", &[("e", b"1")]);
            if record.value() == b"bad" {
                return Err("bad record".into());
            }
            Ok(())
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Dup>> = const { RefCell::new(None) };
    }

    #[test]
    fn emits_and_discards_failed_output() {
        let input = || {
            batch(&[
                (Some(b"k"), b"good", vec![(b"h", b"v")]),
                (None, b"bad", vec![]),
            ])
        };
        let out = enricher_process(&SLOT, input());
        assert_eq!(out.errors.len(), 2, "not initialised");
        enricher_init(&SLOT, vec![]).unwrap();
        let packed = enricher_process_packed(&SLOT, pack(&input()));
        let out = enricher_process(&SLOT, input());
        assert_eq!(
            format!("{out:?}"),
            format!("{packed:?}"),
            "a packed batch is enriched the same"
        );
        assert_eq!(out.inputs, vec![0, 0]);
        let c = &out.records;
        assert_eq!(item(&c.values, Words::Native(&c.value_ends), 0), b"good");
        assert_eq!(item(&c.keys, Words::Native(&c.key_ends), 0), b"k");
        assert_eq!(c.has_key, vec![1, 0]);
        assert_eq!(item(&c.values, Words::Native(&c.value_ends), 1), b"extra");
        assert_eq!(c.header_ends, vec![1, 2]);
        assert_eq!(c.header_data, b"hve1");
        assert_eq!(out.errors.len(), 1);
        assert_eq!(
            (out.errors[0].index, out.errors[0].message.as_str()),
            (1, "bad record")
        );
    }
}
