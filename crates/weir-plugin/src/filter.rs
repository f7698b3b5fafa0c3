//! Filters: keep or drop each record.

use crate::__private::{Slot, init_slot, not_initialised, packed_records};
use crate::bindings::exports::weir::plugin::filter_plugin::{Batch, RecordError, Verdicts};
use crate::{Record, Records, Settings};

/// A filter plugin: decides for each record whether to keep it.
///
/// Export the implementing type with [`export_filter!`](crate::export_filter).
///
/// ```rust,no_run
/// use weir_plugin::{Filter, Record, Settings};
///
/// /// Keeps records that carry a given header.
/// struct HasHeader { name: String }
///
/// impl Filter for HasHeader {
///     fn init(settings: &Settings) -> Result<Self, String> {
///         Ok(Self { name: settings.require("header")? })
///     }
///     fn keep(&mut self, record: &Record<'_>) -> Result<bool, String> {
///         Ok(record.header(&self.name).is_some())
///     }
/// }
///
/// weir_plugin::export_filter!(HasHeader);
/// ```
pub trait Filter: Sized + 'static {
    /// Builds the plugin from its settings; called once per instance before
    /// any record. An error rejects the plugin with the message.
    fn init(settings: &Settings) -> Result<Self, String>;

    /// Whether to keep `record`. An `Err` fails only this record: it goes to
    /// the failure destination with the message.
    fn keep(&mut self, record: &Record<'_>) -> Result<bool, String>;
}

#[doc(hidden)]
pub fn filter_init<T: Filter>(
    slot: &'static Slot<T>,
    settings: Vec<(String, String)>,
) -> Result<(), String> {
    init_slot(slot, || T::init(&Settings::new(settings)))
}

#[doc(hidden)]
pub fn filter_process<T: Filter>(slot: &'static Slot<T>, batch: Batch) -> Verdicts {
    decide(slot, &Records::of(&batch))
}

#[doc(hidden)]
pub fn filter_process_packed<T: Filter>(slot: &'static Slot<T>, batch: Vec<u8>) -> Verdicts {
    decide(slot, &packed_records(&batch))
}

fn decide<T: Filter>(slot: &'static Slot<T>, records: &Records<'_>) -> Verdicts {
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let n = records.len();
        let mut keep = Vec::with_capacity(n);
        let mut errors = Vec::new();
        match guard.as_mut() {
            Some(plugin) => {
                for index in 0..n as u32 {
                    match plugin.keep(&Record::new(records, index)) {
                        Ok(true) => keep.push(index),
                        Ok(false) => {}
                        Err(message) => errors.push(RecordError { index, message }),
                    }
                }
            }
            None => errors = not_initialised(n),
        }
        Verdicts { keep, errors }
    })
}

/// Exports a type implementing [`Filter`](crate::Filter) as the plugin's
/// `weir:plugin/filter-plugin` interface. Use it once per plugin crate, at
/// the top level.
#[macro_export]
macro_rules! export_filter {
    ($ty:ty) => {
        const _: () = {
            fn __weir_assert_filter<T: $crate::Filter>() {}
            let _ = __weir_assert_filter::<$ty>;
        };

        const _: () = {
            use $crate::bindings::exports::weir::plugin::filter_plugin as __weir_raw;

            ::std::thread_local! {
                static __WEIR_INSTANCE: ::core::cell::RefCell<::core::option::Option<$ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WeirFilterExport;

            impl __weir_raw::Guest for __WeirFilterExport {
                fn init(
                    settings: __weir_raw::Settings,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::filter_init::<$ty>(&__WEIR_INSTANCE, settings)
                }

                fn process(batch: __weir_raw::Batch) -> __weir_raw::Verdicts {
                    $crate::__private::filter_process::<$ty>(&__WEIR_INSTANCE, batch)
                }
            }

            $crate::__packed_export!(
                __WeirFilterExport,
                packed_filter_plugin,
                Verdicts,
                |batch| $crate::__private::filter_process_packed::<$ty>(&__WEIR_INSTANCE, batch)
            );

    $crate::bindings::export!(__WeirFilterExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::NOT_INITIALISED;
    use crate::record::test_batch;
    use std::cell::RefCell;

    struct Even;
    impl Filter for Even {
        fn init(settings: &Settings) -> Result<Self, String> {
            match settings.get("fail") {
                Some(_) => Err("no".into()),
                None => Ok(Even),
            }
        }
        fn keep(&mut self, record: &Record<'_>) -> Result<bool, String> {
            match record.value() {
                b"x" => Err("bad x".into()),
                _ => Ok(record.index() % 2 == 0),
            }
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Even>> = const { RefCell::new(None) };
    }

    fn batch() -> Batch {
        test_batch::batch(&[
            (None, b"a", vec![]),
            (None, b"a", vec![]),
            (None, b"x", vec![]),
            (None, b"a", vec![]),
        ])
    }

    #[test]
    fn packed_batches_get_the_same_verdicts() {
        filter_init(&SLOT, vec![]).unwrap();
        let packed = crate::record::test_batch::pack(&batch());
        let (v, p) = (
            filter_process(&SLOT, batch()),
            filter_process_packed(&SLOT, packed),
        );
        assert_eq!((v.keep, p.keep), (vec![0], vec![0]));
        assert_eq!((v.errors[0].index, p.errors[0].index), (2, 2));
    }

    #[test]
    fn lifecycle() {
        let v = filter_process(&SLOT, batch());
        assert!(v.keep.is_empty());
        assert_eq!(v.errors.len(), 4);
        assert_eq!(v.errors[3].message, NOT_INITIALISED);

        filter_init(&SLOT, vec![]).unwrap();
        let v = filter_process(&SLOT, batch());
        assert_eq!(v.keep, vec![0]);
        assert_eq!(v.errors.len(), 1);
        assert_eq!(
            (v.errors[0].index, v.errors[0].message.as_str()),
            (2, "bad x")
        );

        let e = filter_init(&SLOT, vec![("fail".into(), "1".into())]).unwrap_err();
        assert_eq!(e, "no");
        assert_eq!(filter_process(&SLOT, batch()).errors.len(), 4);
    }
}
