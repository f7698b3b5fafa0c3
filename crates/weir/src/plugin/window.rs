//! The aggregator calls: folding a batch into event-time windows, and
//! turning closed windows into records.
//!
//! The caller (a windowed pipeline stage) owns the windows: it assigns
//! records to windows, keeps every open window's accumulator and decides
//! when a window closes. The plugin only folds records into accumulators
//! ([`PluginInstance::accumulate`]) and reads closed ones out
//! ([`PluginInstance::emit`], or [`PluginInstance::emit_isolated`] so that
//! a window the plugin cannot emit fails alone).
//!
//! Every accumulator the plugin returns is checked against the stage's
//! [`Limits::accumulator_kb`](super::Limits::accumulator_kb) before the
//! host keeps it: a larger one fails the call with
//! [`PluginError::Quota`].

use super::bindings::aggregator_plugin::{self as wit, Closed, Group};
use super::instance::PluginInstance;
use super::marshal::{ColumnsReader, check_output, record_errors_within};
use super::worlds::Guest;
use super::{Limits, PluginError, PluginKind, QuotaExceeded};
use crate::record::{Batch, Bytes, Header};

/// The records of one batch that fall into one window, with the window's
/// accumulator so far: one item of the input of
/// [`PluginInstance::accumulate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowGroup {
    /// The window's key: the records' key, or empty for per-partition windows.
    pub key: Vec<u8>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub end: i64,
    /// The accumulator so far; `None` for the window's first records.
    pub accumulator: Option<Vec<u8>>,
    /// Indices in the batch of this window's records, ascending. Indices
    /// outside the batch are ignored by the SDK's aggregators.
    pub records: Vec<u32>,
}

/// A window whose end the watermark has passed, with its final
/// accumulator: one item of the input of [`PluginInstance::emit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosedWindow {
    /// The window's key, as in [`WindowGroup::key`].
    pub key: Vec<u8>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub end: i64,
    /// The window's final accumulator.
    pub accumulator: Vec<u8>,
}

impl ClosedWindow {
    /// `window [start, end) of key `key`` (or `of the partition`), as
    /// errors and logs name it.
    pub(crate) fn describe(&self) -> String {
        describe(&self.key, self.start, self.end)
    }
}

/// A record an aggregator made from a closed window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowOutput {
    /// Index, in the windows passed to [`PluginInstance::emit`], of the
    /// window this record was made from.
    pub window: usize,
    /// The record key (`None`: no key).
    pub key: Option<Bytes>,
    /// The record value.
    pub value: Bytes,
    /// The record headers.
    pub headers: Vec<Header>,
}

/// What an aggregator made of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accumulated {
    /// The new accumulator of each group, in the order of the groups.
    pub accumulators: Vec<Vec<u8>>,
    /// Records that failed, as `(index in the batch, message)`; they were
    /// not folded in and go to the failure destination.
    pub errors: Vec<(usize, String)>,
}

/// What [`PluginInstance::emit_isolated`] made of a set of closed windows.
#[derive(Debug, Default)]
pub struct Emitted {
    /// The records of the windows that were emitted, in the order of the
    /// windows; [`WindowOutput::window`] indexes the windows passed in.
    pub records: Vec<WindowOutput>,
    /// The windows whose `emit` failed even alone, as `(index in the
    /// windows passed in, error)`, ascending; they made no records.
    pub failed: Vec<(usize, PluginError)>,
}

/// `window [start, end) of key `key``, or `of the partition` for the
/// per-partition window (empty key): how errors and logs name a window.
pub(crate) fn describe(key: &[u8], start: i64, end: i64) -> String {
    if key.is_empty() {
        format!("window [{start}, {end}) of the partition")
    } else {
        format!(
            "window [{start}, {end}) of key `{}`",
            String::from_utf8_lossy(key)
        )
    }
}

/// The error for `call` on a plugin whose kind does not have it.
pub(crate) fn unsupported(inst: &PluginInstance, call: &str) -> PluginError {
    let kind = inst.plugin().kind();
    let hint = if kind == PluginKind::Aggregator {
        "aggregators fold records into event-time windows through `accumulate` and `emit`, \
         which a windowed pipeline stage calls"
    } else {
        "only aggregator plugins fold records into windows; call `process`"
    };
    PluginError::UnsupportedCall {
        name: inst.plugin_name().to_string(),
        kind,
        call: call.to_string(),
        hint: hint.to_string(),
    }
}

impl PluginInstance {
    fn require_aggregator(&self, call: &str) -> Result<(), PluginError> {
        match self.plugin().kind() {
            PluginKind::Aggregator => Ok(()),
            _ => Err(unsupported(self, call)),
        }
    }

    /// Folds the records of `batch` into their windows; `groups` lists each
    /// window, its accumulator so far and its records.
    ///
    /// Per-record errors fail only their records ([`Accumulated::errors`]);
    /// every group still gets its new accumulator. A trap fails the call
    /// (the caller keeps the previous accumulators) and the instance is
    /// recreated on the next call. An accumulator larger than the
    /// instance's [`Limits::accumulator_kb`](super::Limits::accumulator_kb)
    /// fails the call with [`PluginError::Quota`]. Plugins of other kinds
    /// fail with [`PluginError::UnsupportedCall`].
    pub fn accumulate(
        &mut self,
        batch: &Batch,
        groups: &[WindowGroup],
    ) -> Result<Accumulated, PluginError> {
        let result = self.accumulate_checked(batch, groups);
        self.settle_own_state(result.is_ok());
        result
    }

    /// [`accumulate`](Self::accumulate), its answer checked.
    fn accumulate_checked(
        &mut self,
        batch: &Batch,
        groups: &[WindowGroup],
    ) -> Result<Accumulated, PluginError> {
        self.require_aggregator("accumulate")?;
        if groups.is_empty() {
            return Ok(Accumulated::default());
        }
        let groups_wit: Vec<Group> = groups
            .iter()
            .map(|g| Group {
                key: g.key.clone(),
                start: g.start,
                end: g.end,
                accumulator: g.accumulator.clone(),
                records: g.records.clone(),
            })
            .collect();
        let raw = self.call_guest(|store, guest, buffers| {
            let wit = buffers.pack(&batch.origin, &batch.partition, &batch.records);
            aggregator(guest)?.call_accumulate(store, wit, &groups_wit)
        })?;
        check_accumulator_sizes(&raw.accumulators, groups, self.limits()).map_err(|quota| {
            PluginError::Quota {
                name: self.plugin_name().to_string(),
                quota,
            }
        })?;
        let limits = *self.limits();
        check_accumulated(raw, groups.len(), batch.records.len(), &limits)
            .map_err(|m| self.contract(m))
    }

    /// Turns closed windows into output records, each tagged with the index
    /// of its window in `windows`.
    ///
    /// A trap fails the call and the instance is recreated on the next call.
    /// Plugins of other kinds fail with [`PluginError::UnsupportedCall`].
    pub fn emit(&mut self, windows: &[ClosedWindow]) -> Result<Vec<WindowOutput>, PluginError> {
        let result = self.emit_checked(windows);
        self.settle_own_state(result.is_ok());
        result
    }

    /// [`emit`](Self::emit), its answer checked.
    fn emit_checked(&mut self, windows: &[ClosedWindow]) -> Result<Vec<WindowOutput>, PluginError> {
        self.require_aggregator("emit")?;
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let closed: Vec<Closed> = windows
            .iter()
            .map(|w| Closed {
                key: w.key.clone(),
                start: w.start,
                end: w.end,
                accumulator: w.accumulator.clone(),
            })
            .collect();
        let raw =
            self.call_guest(|store, guest, _| aggregator(guest)?.call_emit(store, &closed))?;
        check_output(&raw.records, self.limits()).map_err(|quota| PluginError::Quota {
            name: self.plugin_name().to_string(),
            quota,
        })?;
        read_results(raw, windows.len()).map_err(|m| self.contract(m))
    }

    /// Turns closed windows into output records, like [`emit`](Self::emit),
    /// but a failure fails only the windows it comes from.
    ///
    /// All windows are emitted in one call first. When that call fails
    /// (a trap, a deadline, a limit, an invalid result), the windows are
    /// split in two halves, each emitted on its own, recursively, until
    /// every failing window is alone: its error is in
    /// [`Emitted::failed`], and every other window's records are in
    /// [`Emitted::records`]. One failing window among `n` costs about
    /// `2·log2(n)` extra calls. Plugins of other kinds fail with
    /// [`PluginError::UnsupportedCall`].
    pub fn emit_isolated(&mut self, windows: &[ClosedWindow]) -> Result<Emitted, PluginError> {
        self.require_aggregator("emit")?;
        let mut out = Emitted::default();
        self.emit_range(windows, 0, &mut out);
        Ok(out)
    }

    /// Emits `windows`, the ones from `offset` on of the caller's, into
    /// `out`, splitting on failure.
    fn emit_range(&mut self, windows: &[ClosedWindow], offset: usize, out: &mut Emitted) {
        if windows.is_empty() {
            return;
        }
        match self.emit(windows) {
            Ok(records) => out.records.extend(records.into_iter().map(|mut r| {
                r.window += offset;
                r
            })),
            Err(error) if windows.len() == 1 => out.failed.push((offset, error)),
            Err(error) => {
                tracing::debug!(
                    plugin = %self.plugin_name(),
                    windows = windows.len(),
                    "emit failed, splitting the windows: {error}"
                );
                let (left, right) = windows.split_at(windows.len() / 2);
                self.emit_range(left, offset, out);
                self.emit_range(right, offset + left.len(), out);
            }
        }
    }
}

/// Checks that no accumulator is larger than `limits` allow; the error
/// names the first window whose accumulator is.
fn check_accumulator_sizes(
    accumulators: &[Vec<u8>],
    groups: &[WindowGroup],
    limits: &Limits,
) -> Result<(), QuotaExceeded> {
    let limit = limits.accumulator_bytes();
    let too_large = accumulators
        .iter()
        .zip(groups)
        .find(|(acc, _)| acc.len() > limit);
    match too_large {
        None => Ok(()),
        Some((acc, g)) => Err(QuotaExceeded::new(
            "accumulator_kb",
            limits.accumulator_kb,
            " KiB",
            format!(
                "the accumulator of {} is {} bytes",
                describe(&g.key, g.start, g.end),
                acc.len()
            ),
        )),
    }
}

/// The aggregator calls of `guest`. Callers check the plugin's kind
/// first, so the error is never expected.
fn aggregator(guest: &dyn Guest) -> wasmtime::Result<&wit::Guest> {
    guest
        .aggregator()
        .ok_or_else(|| wasmtime::format_err!("internal error: not an aggregator"))
}

/// Validates `accumulate`'s answer against `groups` groups and a batch of
/// `records` records.
fn check_accumulated(
    raw: wit::Accumulated,
    groups: usize,
    records: usize,
    limits: &Limits,
) -> Result<Accumulated, String> {
    if raw.accumulators.len() != groups {
        return Err(format!(
            "returned {} accumulators for {groups} window groups",
            raw.accumulators.len()
        ));
    }
    Ok(Accumulated {
        accumulators: raw.accumulators,
        errors: record_errors_within(raw.errors, records, limits)?,
    })
}

/// Reads `emit`'s answer for `windows` closed windows, checking every index
/// and offset.
fn read_results(raw: wit::Results, windows: usize) -> Result<Vec<WindowOutput>, String> {
    let reader = ColumnsReader::new(raw.records);
    if reader.len() != raw.windows.len() {
        return Err(format!(
            "emitted {} records but {} window indices",
            reader.len(),
            raw.windows.len()
        ));
    }
    raw.windows
        .iter()
        .enumerate()
        .map(|(j, &window)| {
            let window = window as usize;
            if window >= windows {
                return Err(format!(
                    "emitted a record for window {window}, but {windows} windows were closed"
                ));
            }
            let (key, value, headers) = reader.record(j)?;
            Ok(WindowOutput {
                window,
                key,
                value,
                headers,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::bindings::types::RecordError;
    use crate::plugin::marshal::{empty_columns, push_record};

    fn accumulated(accumulators: usize, error_at: Option<u32>) -> wit::Accumulated {
        wit::Accumulated {
            accumulators: vec![vec![1]; accumulators],
            errors: error_at
                .map(|index| RecordError {
                    index,
                    message: "bad".into(),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn accumulators_must_match_the_groups() {
        let ok = check_accumulated(accumulated(2, Some(3)), 2, 4, &Limits::default());
        assert_eq!(
            ok.map(|a| (a.accumulators.len(), a.errors)),
            Ok((2, vec![(3, "bad".to_string())]))
        );
        let err = check_accumulated(accumulated(1, None), 2, 4, &Limits::default()).err();
        assert_eq!(
            err.as_deref(),
            Some("returned 1 accumulators for 2 window groups")
        );
        let err = check_accumulated(accumulated(2, Some(4)), 2, 4, &Limits::default()).err();
        assert!(err.unwrap_or_default().contains("record 4"));
    }

    #[test]
    fn an_accumulator_past_the_limit_names_limits_accumulator_kb() {
        let groups = [
            WindowGroup {
                key: b"v-1".to_vec(),
                start: 0,
                end: 60_000,
                ..WindowGroup::default()
            },
            WindowGroup {
                key: b"v-2".to_vec(),
                start: 60_000,
                end: 120_000,
                ..WindowGroup::default()
            },
        ];
        let limits = Limits {
            accumulator_kb: 1,
            ..Limits::default()
        };
        let fits = vec![0; 1024];
        assert_eq!(
            check_accumulator_sizes(&[fits.clone(), fits.clone()], &groups, &limits),
            Ok(())
        );
        let err = check_accumulator_sizes(&[fits, vec![0; 1025]], &groups, &limits)
            .err()
            .map(|q| q.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "the accumulator of window [60000, 120000) of key `v-2` is 1025 bytes, past the limit \
             `accumulator_kb` = 1 KiB (raise `limits.accumulator_kb` in the stage's config)"
        );
        assert_eq!(describe(b"", 0, 1), "window [0, 1) of the partition");
    }

    #[test]
    fn results_must_name_closed_windows() {
        let mut records = empty_columns();
        push_record(&mut records, Some(b"v-1"), b"{}", &[]);
        push_record(&mut records, None, b"[]", &[]);
        let mut raw = wit::Results {
            records,
            windows: vec![1, 0],
        };
        let out = read_results(raw.clone(), 2);
        let out = out.unwrap_or_default();
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].window, out[0].key.as_deref()),
            (1, Some(&b"v-1"[..]))
        );
        assert_eq!((out[1].window, &out[1].value[..]), (0, &b"[]"[..]));
        let err = read_results(raw.clone(), 1).err().unwrap_or_default();
        assert!(err.contains("window 1, but 1 windows"), "{err}");
        raw.windows.pop();
        let err = read_results(raw, 2).err().unwrap_or_default();
        assert!(err.contains("2 records but 1 window indices"), "{err}");
    }
}
