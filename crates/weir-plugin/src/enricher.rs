//! Enrichers: map each record to zero or more records.

use crate::__private::{Slot, init_slot, not_initialised};
use crate::bindings::exports::weir::plugin::enricher_plugin::{
    Batch, Emitted, Enrichment, Header, RecordError, Span,
};
use crate::{Record, Settings};

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
    fn push(&mut self, bytes: &[u8]) -> Span {
        // wasm32 memory is at most 4 GiB, so offsets fit in u32.
        let start = self.out.data.len() as u32;
        self.out.data.extend_from_slice(bytes);
        Span {
            start,
            len: bytes.len() as u32,
        }
    }

    fn push_record(&mut self, key: Option<Span>, value: Span, headers_first: usize) {
        self.out.records.push(Emitted {
            input: self.input.index(),
            key,
            value,
            headers_first: headers_first as u32,
            headers_count: (self.out.headers.len() - headers_first) as u32,
        });
    }

    /// Emits a record with `value` that keeps the input record's key and
    /// headers.
    pub fn emit(&mut self, value: &[u8]) {
        let key = self.input.key().map(|key| self.push(key));
        let value = self.push(value);
        let headers_first = self.out.headers.len();
        for (name, value) in self.input.raw_headers() {
            let header = Header {
                name: self.push(name),
                value: self.push(value),
            };
            self.out.headers.push(header);
        }
        self.push_record(key, value, headers_first);
    }

    /// Emits a record with the given key (`None`: no key), value and headers.
    pub fn emit_with(&mut self, key: Option<&[u8]>, value: &[u8], headers: &[(&str, &[u8])]) {
        let key = key.map(|key| self.push(key));
        let value = self.push(value);
        let headers_first = self.out.headers.len();
        for (name, value) in headers {
            let header = Header {
                name: self.push(name.as_bytes()),
                value: self.push(value),
            };
            self.out.headers.push(header);
        }
        self.push_record(key, value, headers_first);
    }
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("input", &self.input.index())
            .field("emitted", &self.out.records.len())
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
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(plugin) = guard.as_mut() else {
            return Enrichment {
                records: Vec::new(),
                headers: Vec::new(),
                data: Vec::new(),
                errors: not_initialised(batch.entries.len()),
            };
        };
        let mut out = Enrichment {
            records: Vec::with_capacity(batch.entries.len()),
            headers: Vec::new(),
            data: Vec::with_capacity(batch.data.len()),
            errors: Vec::new(),
        };
        for (i, entry) in batch.entries.iter().enumerate() {
            let index = i as u32;
            let record = Record::new(&batch, entry, index);
            let marks = (out.records.len(), out.headers.len(), out.data.len());
            let mut emitter = Emitter {
                out: &mut out,
                input: record,
            };
            if let Err(message) = plugin.enrich(&record, &mut emitter) {
                out.records.truncate(marks.0);
                out.headers.truncate(marks.1);
                out.data.truncate(marks.2);
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

    $crate::bindings::export!(__WeirEnricherExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::weir::plugin::types::Entry;
    use std::cell::RefCell;

    struct Split;
    impl Enricher for Split {
        fn init(_: &Settings) -> Result<Self, String> {
            Ok(Split)
        }
        fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
            out.emit(record.value());
            out.emit_with(None, b"extra", &[("e", b"1")]);
            if record.value() == b"bad" {
                return Err("bad value".into());
            }
            Ok(())
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Split>> = const { RefCell::new(None) };
    }

    fn get(data: &[u8], span: Span) -> &[u8] {
        crate::record::slice(data, span)
    }

    #[test]
    fn emits_and_discards_failed() {
        // data: "k" "good" "h" "v" "bad"
        let sp = |start, len| Span { start, len };
        let batch = || Batch {
            origin: String::new(),
            partition: String::new(),
            entries: vec![
                Entry {
                    key: Some(sp(0, 1)),
                    value: sp(1, 4),
                    headers_first: 0,
                    headers_count: 1,
                    timestamp_ms: 0,
                    position: sp(0, 0),
                },
                Entry {
                    key: None,
                    value: sp(7, 3),
                    headers_first: 1,
                    headers_count: 0,
                    timestamp_ms: 0,
                    position: sp(0, 0),
                },
            ],
            headers: vec![Header {
                name: sp(5, 1),
                value: sp(6, 1),
            }],
            data: b"kgoodhvbad".to_vec(),
        };
        assert_eq!(enricher_process(&SLOT, batch()).errors.len(), 2);
        enricher_init(&SLOT, vec![]).unwrap();
        let out = enricher_process(&SLOT, batch());
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].index, 1);
        let (a, b) = (&out.records[0], &out.records[1]);
        assert_eq!(get(&out.data, a.key.unwrap()), b"k");
        assert_eq!(get(&out.data, a.value), b"good");
        assert_eq!((a.headers_first, a.headers_count), (0, 1));
        let h = &out.headers[0];
        assert_eq!(
            (get(&out.data, h.name), get(&out.data, h.value)),
            (&b"h"[..], &b"v"[..])
        );
        assert!(b.key.is_none());
        assert_eq!(get(&out.data, b.value), b"extra");
        assert_eq!((b.headers_first, b.headers_count), (1, 1));
        assert_eq!(get(&out.data, out.headers[1].name), b"e");
        assert_eq!(out.headers.len(), 2);
        assert_eq!(out.data.len(), "kgoodhvextrae1".len());
    }
}
