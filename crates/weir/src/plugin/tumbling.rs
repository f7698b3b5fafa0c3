//! Tumbling event-time windows kept by hand: an aggregator driven outside a
//! pipeline (a test, `weir plugin test`, a tool) with the windows a
//! pipeline's window stage would give it, without watermarks: every window
//! stays open until [`TumblingWindows::closed`].

use std::collections::BTreeMap;

use super::window::{Accumulated, ClosedWindow, WindowGroup};
use super::{PluginError, PluginInstance};
use crate::record::{Batch, Record};

/// Open tumbling windows of one width, keyed by record key (an absent key
/// is the empty key), each with the accumulator its aggregator returned.
///
/// ```
/// # use weir::plugin::TumblingWindows;
/// let windows = TumblingWindows::new(60_000);
/// assert_eq!(windows.start_of(61_500), 60_000);
/// assert_eq!(windows.start_of(-1), -60_000);
/// ```
#[derive(Debug, Clone)]
pub struct TumblingWindows {
    width: i64,
    open: BTreeMap<(Vec<u8>, i64), Vec<u8>>,
}

impl TumblingWindows {
    /// No open windows yet; windows `width_ms` wide (at least 1).
    pub fn new(width_ms: i64) -> Self {
        TumblingWindows {
            width: width_ms.max(1),
            open: BTreeMap::new(),
        }
    }

    /// The start of the window holding `timestamp_ms`, as a pipeline's
    /// window stage assigns it.
    pub fn start_of(&self, timestamp_ms: i64) -> i64 {
        timestamp_ms
            .div_euclid(self.width)
            .saturating_mul(self.width)
    }

    /// The groups of `records` (one batch) by window, each with its
    /// window's accumulator so far: the input of
    /// [`PluginInstance::accumulate`].
    pub fn groups(&self, records: &[Record]) -> Vec<WindowGroup> {
        let mut members: BTreeMap<(Vec<u8>, i64), Vec<u32>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            let key = r.key.as_ref().map(|k| k.to_vec()).unwrap_or_default();
            members
                .entry((key, self.start_of(r.timestamp_ms)))
                .or_default()
                .push(i as u32);
        }
        members
            .into_iter()
            .map(|((key, start), records)| WindowGroup {
                accumulator: self.open.get(&(key.clone(), start)).cloned(),
                key,
                start,
                end: start.saturating_add(self.width),
                records,
            })
            .collect()
    }

    /// Folds `batch` into its windows with `instance` and keeps the new
    /// accumulators; returns the groups and what the aggregator said. On
    /// an error the windows are unchanged.
    pub fn fold(
        &mut self,
        instance: &mut PluginInstance,
        batch: &Batch,
    ) -> Result<(Vec<WindowGroup>, Accumulated), PluginError> {
        let groups = self.groups(&batch.records);
        let accumulated = instance.accumulate(batch, &groups)?;
        for (g, a) in groups.iter().zip(&accumulated.accumulators) {
            self.open.insert((g.key.clone(), g.start), a.clone());
        }
        Ok((groups, accumulated))
    }

    /// Every open window, closed, in key and start order: the input of
    /// [`PluginInstance::emit`].
    pub fn closed(&self) -> Vec<ClosedWindow> {
        self.open
            .iter()
            .map(|((key, start), accumulator)| ClosedWindow {
                key: key.clone(),
                start: *start,
                end: start.saturating_add(self.width),
                accumulator: accumulator.clone(),
            })
            .collect()
    }
}
