//! Aggregators: fold records into event-time tumbling windows and turn
//! closed windows into records.

use crate::__private::{Slot, init_slot, not_initialised};
use crate::bindings::exports::weir::plugin::aggregator_plugin::{
    Accumulated, Batch, Closed, Group, RecordError, Results,
};
use crate::record::{columns_with_capacity, push_record};
use crate::{Record, Records, Settings};

/// One event-time window, as the host assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<'a> {
    /// The window's key: its records' key, or empty for per-partition
    /// windows.
    pub key: &'a [u8],
    /// Window start, ms since the Unix epoch (inclusive).
    pub start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub end: i64,
}

impl<'a> Window<'a> {
    /// The window's key as UTF-8 text; `None` when it is empty or not UTF-8.
    pub fn key_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.key).ok().filter(|k| !k.is_empty())
    }
}

/// Collects the records an [`Aggregator`] emits for one closed window.
pub struct Emitter<'a> {
    out: &'a mut Results,
    window: u32,
    key: &'a [u8],
}

impl Emitter<'_> {
    /// Emits a record with `value`, keyed by the window's key (no key for a
    /// per-partition window, whose key is empty).
    pub fn emit(&mut self, value: &[u8]) {
        let key = (!self.key.is_empty()).then_some(self.key);
        push_record(&mut self.out.records, key, value, []);
        self.out.windows.push(self.window);
    }

    /// Emits a record with the given key (`None`: no key), value and headers.
    pub fn emit_with(&mut self, key: Option<&[u8]>, value: &[u8], headers: &[(&str, &[u8])]) {
        push_record(
            &mut self.out.records,
            key,
            value,
            headers.iter().map(|(n, v)| (n.as_bytes(), *v)),
        );
        self.out.windows.push(self.window);
    }
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("window", &self.window)
            .field("emitted", &self.out.windows.len())
            .finish()
    }
}

/// An aggregator plugin: folds records into event-time tumbling windows and
/// turns each closed window into records.
///
/// The host assigns records to windows and keeps every open window's
/// accumulator, as the bytes [`save`](Self::save) returns, in its
/// checkpointed state. Per batch and window the SDK calls
/// [`load`](Self::load) once, [`accumulate`](Self::accumulate) for each of
/// the window's records and [`save`](Self::save) once, so the accumulator
/// is decoded and encoded once per batch, not per record. When the
/// watermark passes a window's end, [`emit`](Self::emit) gets its final
/// accumulator. Keep no window data in `self`: an instance may be
/// recreated at any time.
///
/// Export the implementing type with
/// [`export_aggregator!`](crate::export_aggregator).
///
/// ```rust,no_run
/// use weir_plugin::{Aggregator, Emitter, Record, Settings, Window};
///
/// /// Counts the records of each window.
/// struct Count;
///
/// impl Aggregator for Count {
///     type Accumulator = u64;
///     fn init(_: &Settings) -> Result<Self, String> {
///         Ok(Count)
///     }
///     fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<u64, String> {
///         match saved {
///             None => Ok(0),
///             Some(bytes) => Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| "bad count")?)),
///         }
///     }
///     fn accumulate(&mut self, _: &Window<'_>, n: &mut u64, _: &Record<'_>) -> Result<(), String> {
///         *n += 1;
///         Ok(())
///     }
///     fn save(&mut self, n: &u64) -> Vec<u8> {
///         n.to_le_bytes().to_vec()
///     }
///     fn emit(&mut self, w: &Window<'_>, n: u64, out: &mut Emitter<'_>) {
///         out.emit(format!(r#"{{"start":{},"count":{n}}}"#, w.start).as_bytes());
///     }
/// }
///
/// weir_plugin::export_aggregator!(Count);
/// ```
pub trait Aggregator: Sized + 'static {
    /// A window's accumulator, decoded.
    type Accumulator;

    /// Builds the plugin from its settings; called once per instance before
    /// any call. An error rejects the plugin with the message.
    fn init(settings: &Settings) -> Result<Self, String>;

    /// The accumulator of `window` from its saved bytes, or a fresh one
    /// when `saved` is `None` (the window's first records). An `Err` fails
    /// the window's records of this batch and keeps the saved bytes; in
    /// `emit`, the window is skipped and the error logged.
    fn load(
        &mut self,
        window: &Window<'_>,
        saved: Option<&[u8]>,
    ) -> Result<Self::Accumulator, String>;

    /// Folds `record` into the window's accumulator. An `Err` fails only
    /// this record; return it before changing the accumulator.
    fn accumulate(
        &mut self,
        window: &Window<'_>,
        accumulator: &mut Self::Accumulator,
        record: &Record<'_>,
    ) -> Result<(), String>;

    /// The bytes the host keeps for the accumulator until the next batch or
    /// `emit`; a compact, versioned encoding survives plugin upgrades.
    fn save(&mut self, accumulator: &Self::Accumulator) -> Vec<u8>;

    /// Turns a closed window's final accumulator into records through `out`.
    fn emit(&mut self, window: &Window<'_>, accumulator: Self::Accumulator, out: &mut Emitter<'_>);
}

#[doc(hidden)]
pub fn aggregator_init<T: Aggregator>(
    slot: &'static Slot<T>,
    settings: Vec<(String, String)>,
) -> Result<(), String> {
    init_slot(slot, || T::init(&Settings::new(settings)))
}

#[doc(hidden)]
pub fn aggregator_accumulate<T: Aggregator>(
    slot: &'static Slot<T>,
    batch: Batch,
    groups: Vec<Group>,
) -> Accumulated {
    let view = Records::of(&batch);
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Some(plugin) = guard.as_mut() else {
            return Accumulated {
                errors: not_initialised(view.len()),
                accumulators: groups
                    .into_iter()
                    .map(|g| g.accumulator.unwrap_or_default())
                    .collect(),
            };
        };
        let mut accumulators = Vec::with_capacity(groups.len());
        let mut errors = Vec::new();
        for group in groups {
            let window = Window {
                key: &group.key,
                start: group.start,
                end: group.end,
            };
            let records = group.records.iter().filter_map(|&i| view.get(i as usize));
            match plugin.load(&window, group.accumulator.as_deref()) {
                Ok(mut acc) => {
                    for record in records {
                        if let Err(message) = plugin.accumulate(&window, &mut acc, &record) {
                            let index = record.index();
                            errors.push(RecordError { index, message });
                        }
                    }
                    accumulators.push(plugin.save(&acc));
                }
                Err(message) => {
                    let message = format!("cannot load the window's accumulator: {message}");
                    errors.extend(records.map(|r| RecordError {
                        index: r.index(),
                        message: message.clone(),
                    }));
                    accumulators.push(group.accumulator.unwrap_or_default());
                }
            }
        }
        Accumulated {
            accumulators,
            errors,
        }
    })
}

#[doc(hidden)]
pub fn aggregator_emit<T: Aggregator>(slot: &'static Slot<T>, windows: Vec<Closed>) -> Results {
    slot.with(|cell| {
        let mut guard = cell.borrow_mut();
        let mut out = Results {
            records: columns_with_capacity(windows.len(), 0),
            windows: Vec::with_capacity(windows.len()),
        };
        let Some(plugin) = guard.as_mut() else {
            return out;
        };
        for (i, closed) in windows.iter().enumerate() {
            let window = Window {
                key: &closed.key,
                start: closed.start,
                end: closed.end,
            };
            match plugin.load(&window, Some(&closed.accumulator)) {
                Ok(acc) => {
                    let mut emitter = Emitter {
                        out: &mut out,
                        window: i as u32,
                        key: &closed.key,
                    };
                    plugin.emit(&window, acc, &mut emitter);
                }
                Err(_message) => {
                    #[cfg(target_arch = "wasm32")]
                    crate::log::error(&format!(
                        "window {}..{} of key {:?} skipped: cannot load its accumulator: {_message}",
                        window.start,
                        window.end,
                        String::from_utf8_lossy(window.key)
                    ));
                }
            }
        }
        out
    })
}

/// Exports a type implementing [`Aggregator`](crate::Aggregator) as the
/// plugin's `weir:plugin/aggregator-plugin` interface. Use it once per
/// plugin crate, at the top level.
#[macro_export]
macro_rules! export_aggregator {
    ($ty:ty) => {
        const _: () = {
            fn __weir_assert_aggregator<T: $crate::Aggregator>() {}
            let _ = __weir_assert_aggregator::<$ty>;
        };

        const _: () = {
            use $crate::bindings::exports::weir::plugin::aggregator_plugin as __weir_raw;

            ::std::thread_local! {
                static __WEIR_INSTANCE: ::core::cell::RefCell<::core::option::Option<$ty>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __WeirAggregatorExport;

            impl __weir_raw::Guest for __WeirAggregatorExport {
                fn init(
                    settings: __weir_raw::Settings,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::aggregator_init::<$ty>(&__WEIR_INSTANCE, settings)
                }

                fn accumulate(
                    batch: __weir_raw::Batch,
                    groups: ::std::vec::Vec<__weir_raw::Group>,
                ) -> __weir_raw::Accumulated {
                    $crate::__private::aggregator_accumulate::<$ty>(&__WEIR_INSTANCE, batch, groups)
                }

                fn emit(windows: ::std::vec::Vec<__weir_raw::Closed>) -> __weir_raw::Results {
                    $crate::__private::aggregator_emit::<$ty>(&__WEIR_INSTANCE, windows)
                }
            }

    $crate::bindings::export!(__WeirAggregatorExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::NOT_INITIALISED;
    use crate::record::{Words, item, test_batch::batch};
    use std::cell::RefCell;

    /// Sums value lengths; a value `bad` fails; the saved form is 8 bytes.
    struct Bytes;
    impl Aggregator for Bytes {
        type Accumulator = u64;
        fn init(_: &Settings) -> Result<Self, String> {
            Ok(Bytes)
        }
        fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<u64, String> {
            match saved {
                None => Ok(0),
                Some(b) => Ok(u64::from_le_bytes(b.try_into().map_err(|_| "corrupt")?)),
            }
        }
        fn accumulate(
            &mut self,
            _: &Window<'_>,
            acc: &mut u64,
            record: &Record<'_>,
        ) -> Result<(), String> {
            match record.value() {
                b"bad" => Err("bad record".into()),
                v => {
                    *acc += v.len() as u64;
                    Ok(())
                }
            }
        }
        fn save(&mut self, acc: &u64) -> Vec<u8> {
            acc.to_le_bytes().to_vec()
        }
        fn emit(&mut self, w: &Window<'_>, acc: u64, out: &mut Emitter<'_>) {
            out.emit(format!("{}:{acc}", w.start).as_bytes());
            if acc > 100 {
                out.emit_with(None, b"big", &[("h", b"1")]);
            }
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Bytes>> = const { RefCell::new(None) };
    }

    fn group(key: &[u8], accumulator: Option<u64>, records: Vec<u32>) -> Group {
        Group {
            key: key.to_vec(),
            start: 0,
            end: 60_000,
            accumulator: accumulator.map(|a| a.to_le_bytes().to_vec()),
            records,
        }
    }

    #[test]
    fn folds_groups_and_emits_windows() {
        let input = || {
            batch(&[
                (None, b"abc", vec![]),
                (None, b"bad", vec![]),
                (None, b"hello", vec![]),
            ])
        };
        let out = aggregator_accumulate(&SLOT, input(), vec![group(b"a", Some(7), vec![0])]);
        assert_eq!(out.errors.len(), 3);
        assert_eq!(out.errors[0].message, NOT_INITIALISED);
        assert_eq!(out.accumulators, vec![7u64.to_le_bytes().to_vec()], "kept");

        aggregator_init(&SLOT, vec![]).unwrap();
        let mut corrupt = group(b"c", None, vec![2]);
        corrupt.accumulator = Some(b"xy".to_vec());
        let groups = vec![
            group(b"a", None, vec![0, 1]),
            group(b"b", Some(100), vec![2, 99]),
            corrupt,
        ];
        let out = aggregator_accumulate(&SLOT, input(), groups);
        assert_eq!(
            out.accumulators,
            vec![
                3u64.to_le_bytes().to_vec(),
                105u64.to_le_bytes().to_vec(),
                b"xy".to_vec()
            ]
        );
        let errors: Vec<(u32, &str)> = out
            .errors
            .iter()
            .map(|e| (e.index, e.message.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, "bad record"),
                (2, "cannot load the window's accumulator: corrupt")
            ]
        );

        let closed = |key: &[u8], acc: Vec<u8>| Closed {
            key: key.to_vec(),
            start: 5,
            end: 10,
            accumulator: acc,
        };
        let res = aggregator_emit(
            &SLOT,
            vec![
                closed(b"", b"bad".to_vec()),
                closed(b"a", 3u64.to_le_bytes().to_vec()),
                closed(b"", 105u64.to_le_bytes().to_vec()),
            ],
        );
        assert_eq!(
            res.windows,
            vec![1, 2, 2],
            "the unreadable window is skipped"
        );
        let c = &res.records;
        assert_eq!(item(&c.values, Words::Native(&c.value_ends), 0), b"5:3");
        assert_eq!(item(&c.values, Words::Native(&c.value_ends), 1), b"5:105");
        assert_eq!(item(&c.values, Words::Native(&c.value_ends), 2), b"big");
        assert_eq!(c.has_key, vec![1, 0, 0], "an empty window key emits no key");
        assert_eq!(c.keys, b"a");
        assert_eq!(
            (c.header_ends.clone(), c.header_data.clone()),
            (vec![0, 0, 1], b"h1".to_vec())
        );
    }

    #[test]
    fn window_key_text() {
        let w = Window {
            key: b"v-1",
            start: 0,
            end: 1,
        };
        assert_eq!(w.key_str(), Some("v-1"));
        let w = Window { key: b"", ..w };
        assert_eq!(w.key_str(), None);
    }
}
