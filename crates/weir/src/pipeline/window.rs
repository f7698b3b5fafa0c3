//! Event-time tumbling windows for aggregator stages.
//!
//! Each record falls into the window `[start, start + size)` with `start`
//! its timestamp rounded down to a multiple of `size`, per key (or per
//! partition). When the watermark (the newest timestamp seen in the
//! partition) minus the allowed lateness passes a window's end, the window
//! closes: the plugin's `emit` turns its accumulator into output records,
//! timestamped `end - 1` and placed at the position of the batch's last
//! record. A record for a window that already closed is late: it goes to
//! the failure destination. Open windows stay open when a bounded source
//! ends; they close when later records arrive.
//!
//! # A window that cannot be emitted
//!
//! When `emit` fails, the closing windows are split until each failing
//! window is alone ([`PluginInstance::emit_isolated`]); a window that still
//! fails is emitted again alone up to `errors.max_retries` times, waiting
//! `errors.retry_backoff` (doubled each time) in between. A window that
//! fails every attempt goes to the failure destination as one dead letter —
//! keyed by the window's key, its value the window's final accumulator, its
//! headers `weir.window.start` and `weir.window.end`, its error naming the
//! window and the plugin's error — and is removed. The batch and every
//! other window carry on: one bad window never blocks its partition.
//!
//! # How windows are stored
//!
//! The open windows live in the stage's state (namespace `<stage>\x01windows`)
//! and are written with the batch's tag, so they are committed together
//! with the source checkpoint and a restart resumes them exactly where the
//! checkpoint left them. A partition `p` is stored as:
//!
//! - `p\0m`: its watermark and how many window slots it uses (17 bytes);
//! - `p\0<n>`: slot `n`, one open window (its key, start and accumulator).
//!
//! A batch writes only the windows it changed (folded records into, opened
//! or closed: closing deletes the slot, which a later window reuses) and
//! the 17-byte header, so the bytes written per batch do not grow with the
//! number of open windows. The slots of a partition are read once, when
//! the stage first sees the partition.
//!
//! Data directories written before this layout hold a partition's windows
//! as one value under the key `p`. It is still read, and the first batch
//! of the partition migrates it: its windows are written to slots and the
//! old value is deleted, committed with that batch's checkpoint.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::retry::RetryPolicy;
use super::settings::{WindowBy, WindowConfig};
use crate::metrics::Counter;
use crate::plugin::{
    CallFailure, ClosedWindow, FailedRecord, Outcome, PluginError, PluginInstance, WindowGroup,
    WindowOutput,
};
use crate::record::{Batch, Header, Record};
use crate::state::StateHandle;

/// The header of a window's dead letter holding the window's start (ms).
pub(crate) const WINDOW_START_HEADER: &str = "weir.window.start";
/// The header of a window's dead letter holding the window's end (ms).
pub(crate) const WINDOW_END_HEADER: &str = "weir.window.end";

/// The window operator of one aggregator stage.
pub(crate) struct Windows {
    size: i64,
    lateness: i64,
    by: WindowBy,
    state: StateHandle,
    /// Windows closed (emitted or dead-lettered), for the metrics.
    closed: Counter,
    /// The open windows of the partitions seen so far. A partition is
    /// taken out while a batch of it runs, and put back when the batch
    /// succeeded; after a failure it is read from the state again.
    partitions: Mutex<HashMap<Arc<str>, Partition>>,
    /// Bytes of keys and values handed to the state store so far.
    written: AtomicU64,
}

/// The windows of one partition, as stored: which slot holds which open
/// window. Accumulators stay in the state store.
#[derive(Debug, Default, PartialEq)]
struct Partition {
    watermark: Option<i64>,
    /// `(start, key)` to the slot holding the window, so windows close in
    /// the order of this map.
    open: BTreeMap<(i64, Vec<u8>), u64>,
    /// Slots below `slots` holding no window.
    free: BTreeSet<u64>,
    /// Slots `0..slots` may hold a window.
    slots: u64,
    /// For a partition still stored in the old single-value layout: the
    /// accumulators by slot, written to their slots by the next batch.
    legacy: Option<HashMap<u64, Vec<u8>>>,
}

impl Partition {
    /// The slot for a new window: the lowest free one, else a new one.
    fn allocate(&mut self) -> u64 {
        self.free.pop_first().unwrap_or_else(|| {
            self.slots += 1;
            self.slots - 1
        })
    }

    /// Frees `slot`, and drops the free slots at the end.
    fn release(&mut self, slot: u64) {
        self.free.insert(slot);
        while self.slots > 0 && self.free.remove(&(self.slots - 1)) {
            self.slots -= 1;
        }
    }
}

/// The version byte of the partition header `p\0m`.
const META_VERSION: u8 = 2;
/// The version byte of the old single-value layout.
const LEGACY_VERSION: u8 = 1;

fn meta_key(partition: &str) -> String {
    format!("{partition}\u{0}m")
}

fn slot_key(partition: &str, slot: u64) -> String {
    format!("{partition}\u{0}{slot}")
}

/// The partition header: version, watermark (`i64::MIN`: none), slots.
fn encode_meta(watermark: Option<i64>, slots: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    out.push(META_VERSION);
    out.extend_from_slice(&watermark.unwrap_or(i64::MIN).to_le_bytes());
    out.extend_from_slice(&slots.to_le_bytes());
    out
}

fn decode_meta(bytes: &[u8]) -> Result<(Option<i64>, u64), String> {
    let mut r = Reader(bytes);
    if r.take(1)? != [META_VERSION] {
        return Err("unknown window state version".into());
    }
    let watermark = r.i64()?;
    let slots = r.u64()?;
    Ok(((watermark != i64::MIN).then_some(watermark), slots))
}

/// One slot: key length, key, start, then the accumulator to the end.
fn encode_slot(key: &[u8], start: i64, accumulator: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + key.len() + accumulator.len());
    out.extend_from_slice(&(key.len() as u64).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(accumulator);
    out
}

/// A slot's key, start and accumulator.
fn decode_slot(bytes: &[u8]) -> Result<(&[u8], i64, &[u8]), String> {
    let mut r = Reader(bytes);
    let len = usize::try_from(r.u64()?).map_err(|e| e.to_string())?;
    let key = r.take(len)?;
    let start = r.i64()?;
    Ok((key, start, r.0))
}

/// One window of the old layout: key, start, accumulator.
type LegacyWindow = (Vec<u8>, i64, Vec<u8>);

/// The old layout: every open window of a partition in one value.
fn decode_legacy(bytes: &[u8]) -> Result<(Option<i64>, Vec<LegacyWindow>), String> {
    let mut r = Reader(bytes);
    if r.take(1)? != [LEGACY_VERSION] {
        return Err("unknown window state version".into());
    }
    let watermark = r.i64()?;
    let n = r.u64()?;
    let mut open = Vec::new();
    for _ in 0..n {
        let len = usize::try_from(r.u64()?).map_err(|e| e.to_string())?;
        let key = r.take(len)?.to_vec();
        let start = r.i64()?;
        let len = usize::try_from(r.u64()?).map_err(|e| e.to_string())?;
        open.push((key, start, r.take(len)?.to_vec()));
    }
    Ok(((watermark != i64::MIN).then_some(watermark), open))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| "window state is truncated".to_string())?;
        self.0 = rest;
        Ok(head)
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "bad length")?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| "bad length")?))
    }
}

fn fail(error: PluginError, batch: Batch) -> Box<CallFailure> {
    Box::new(CallFailure { error, batch })
}

/// An open window this batch folded records into or closes, with its
/// accumulator.
struct Touched {
    key: Vec<u8>,
    start: i64,
    accumulator: Vec<u8>,
}

impl Windows {
    pub(crate) fn new(config: &WindowConfig, state: StateHandle, closed: Counter) -> Self {
        let ms =
            |d: crate::pipeline::ConfigDuration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Windows {
            size: ms(config.size).max(1),
            lateness: config.allowed_lateness.map_or(0, ms),
            by: config.by,
            state,
            closed,
            partitions: Mutex::default(),
            written: AtomicU64::new(0),
        }
    }

    /// Where the windows' state lives.
    pub(crate) fn state(&self) -> &StateHandle {
        &self.state
    }

    /// Bytes of keys and values handed to the state store so far.
    #[cfg(test)]
    fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn state_error(partition: &str, message: impl std::fmt::Display) -> PluginError {
        PluginError::Engine(format!(
            "window state of partition `{partition}`: {message}"
        ))
    }

    fn get(&self, partition: &str, key: &str) -> Result<Option<Vec<u8>>, PluginError> {
        self.state
            .get(key)
            .map_err(|e| Self::state_error(partition, e))
    }

    /// Hands one write to the state store, tagged `tag`.
    fn put(&self, tag: u64, key: String, value: Option<Vec<u8>>) {
        let n = key.len() + value.as_ref().map_or(0, Vec::len);
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        self.state.write(tag, &key, value);
    }

    /// The windows of `partition`: taken from memory, else read from the
    /// state (either layout).
    fn take(&self, partition: &Arc<str>) -> Result<Partition, PluginError> {
        let cached = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(partition);
        match cached {
            Some(p) => Ok(p),
            None => self.load(partition),
        }
    }

    fn put_back(&self, partition: Arc<str>, windows: Partition) {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(partition, windows);
    }

    fn load(&self, partition: &str) -> Result<Partition, PluginError> {
        let err = |m: String| Self::state_error(partition, m);
        let mut p = Partition::default();
        if let Some(meta) = self.get(partition, &meta_key(partition))? {
            let (watermark, slots) = decode_meta(&meta).map_err(err)?;
            p.watermark = watermark;
            p.slots = slots;
            for slot in 0..slots {
                match self.get(partition, &slot_key(partition, slot))? {
                    Some(bytes) => {
                        let (key, start, _) = decode_slot(&bytes)
                            .map_err(|m| err(format!("window slot {slot}: {m}")))?;
                        p.open.insert((start, key.to_vec()), slot);
                    }
                    None => {
                        p.free.insert(slot);
                    }
                }
            }
        } else if let Some(old) = self.get(partition, partition)? {
            let (watermark, open) = decode_legacy(&old).map_err(err)?;
            p.watermark = watermark;
            let mut accumulators = HashMap::new();
            for (key, start, acc) in open {
                let slot = p.allocate();
                p.open.insert((start, key), slot);
                accumulators.insert(slot, acc);
            }
            p.legacy = Some(accumulators);
        }
        Ok(p)
    }

    /// The accumulator of the open window in `slot`.
    fn accumulator(
        &self,
        partition: &str,
        windows: &Partition,
        slot: u64,
    ) -> Result<Vec<u8>, PluginError> {
        if let Some(acc) = windows.legacy.as_ref().and_then(|l| l.get(&slot)) {
            return Ok(acc.clone());
        }
        let bytes = self
            .get(partition, &slot_key(partition, slot))?
            .ok_or_else(|| {
                Self::state_error(partition, format!("window slot {slot} is missing"))
            })?;
        let (_, _, acc) = decode_slot(&bytes)
            .map_err(|m| Self::state_error(partition, format!("window slot {slot}: {m}")))?;
        Ok(acc.to_vec())
    }

    fn key_of(&self, record: &Record) -> Vec<u8> {
        match self.by {
            WindowBy::Key => record.key.as_deref().unwrap_or_default().to_vec(),
            WindowBy::Partition => Vec::new(),
        }
    }

    /// Folds `batch` into its windows and emits the windows it closes
    /// (retrying a window that fails per `policy`); the windows it changed
    /// are written with `tag`.
    pub(crate) fn process(
        &self,
        instance: &mut PluginInstance,
        batch: Batch,
        tag: u64,
        policy: &RetryPolicy,
    ) -> Result<Outcome, Box<CallFailure>> {
        let partition = batch.partition.clone();
        let mut windows = match self.take(&partition) {
            Ok(w) => w,
            Err(e) => return Err(fail(e, batch)),
        };
        match self.run(instance, &mut windows, &batch, tag, policy) {
            Ok(outcome) => {
                self.put_back(partition, windows);
                Ok(outcome)
            }
            // The windows are read from the state again next time, where
            // the failed call's writes are rolled back.
            Err(e) => Err(fail(e, batch)),
        }
    }

    fn run(
        &self,
        instance: &mut PluginInstance,
        windows: &mut Partition,
        batch: &Batch,
        tag: u64,
        policy: &RetryPolicy,
    ) -> Result<Outcome, PluginError> {
        let partition = &*batch.partition;
        let closed_before = windows.watermark.map(|w| w.saturating_sub(self.lateness));
        let mut late = Vec::new();
        let mut groups: BTreeMap<(Vec<u8>, i64), Vec<u32>> = BTreeMap::new();
        for (i, r) in batch.records.iter().enumerate() {
            let start = r
                .timestamp_ms
                .div_euclid(self.size)
                .saturating_mul(self.size);
            let end = start.saturating_add(self.size);
            if closed_before.is_some_and(|c| end <= c) {
                late.push((i, start, end));
            } else {
                groups
                    .entry((self.key_of(r), start))
                    .or_default()
                    .push(i as u32);
            }
        }
        let newest = batch.records.iter().map(|r| r.timestamp_ms).max();
        let watermark = windows.watermark.max(newest);
        let closing_until = watermark.map(|w| w.saturating_sub(self.lateness));

        // Every read, and the plugin's fold, before anything changes.
        let mut group_list = Vec::with_capacity(groups.len());
        for ((key, start), records) in groups {
            let accumulator = match windows.open.get(&(start, key.clone())) {
                Some(&slot) => Some(self.accumulator(partition, windows, slot)?),
                None => None,
            };
            group_list.push(WindowGroup {
                accumulator,
                end: start.saturating_add(self.size),
                key,
                start,
                records,
            });
        }
        let mut touched: BTreeMap<u64, Touched> = BTreeMap::new();
        if let Some(until) = closing_until {
            let closing = windows
                .open
                .iter()
                .take_while(|((start, _), _)| start.saturating_add(self.size) <= until);
            for ((start, key), &slot) in closing {
                touched.insert(
                    slot,
                    Touched {
                        key: key.clone(),
                        start: *start,
                        accumulator: self.accumulator(partition, windows, slot)?,
                    },
                );
            }
        }
        let accumulated = if group_list.is_empty() {
            None
        } else {
            Some(instance.accumulate(batch, &group_list)?)
        };

        // From here on the call succeeds.
        let mut failed = Vec::new();
        if let Some(a) = accumulated {
            for (g, acc) in group_list.into_iter().zip(a.accumulators) {
                let slot = match windows.open.get(&(g.start, g.key.clone())) {
                    Some(&slot) => slot,
                    None => {
                        let slot = windows.allocate();
                        windows.open.insert((g.start, g.key.clone()), slot);
                        slot
                    }
                };
                touched.insert(
                    slot,
                    Touched {
                        key: g.key,
                        start: g.start,
                        accumulator: acc,
                    },
                );
            }
            failed.extend(a.errors.into_iter().filter_map(|(i, error)| {
                batch.records.get(i).map(|r| FailedRecord {
                    record: r.clone(),
                    error,
                })
            }));
        }
        for (i, start, end) in late {
            if let Some(r) = batch.records.get(i) {
                failed.push(FailedRecord {
                    record: r.clone(),
                    error: format!(
                        "late record: its window [{start}, {end}) closed when the partition reached timestamp {}",
                        windows.watermark.unwrap_or_default()
                    ),
                });
            }
        }
        windows.watermark = watermark;
        let (records, freed) =
            self.close(instance, windows, &mut touched, batch, policy, &mut failed)?;
        self.write(tag, partition, windows, touched, &freed);
        Ok(Outcome {
            records,
            failed,
            dropped: 0,
        })
    }

    /// Writes the windows of `touched` (still open), deletes the `freed`
    /// slots and writes the partition's header; migrates a partition of
    /// the old layout.
    fn write(
        &self,
        tag: u64,
        partition: &str,
        windows: &mut Partition,
        mut touched: BTreeMap<u64, Touched>,
        freed: &[u64],
    ) {
        if let Some(mut legacy) = windows.legacy.take() {
            for ((start, key), &slot) in &windows.open {
                if let Some(acc) = legacy.remove(&slot) {
                    touched.entry(slot).or_insert_with(|| Touched {
                        key: key.clone(),
                        start: *start,
                        accumulator: acc,
                    });
                }
            }
            self.put(tag, partition.to_string(), None);
        }
        for &slot in freed {
            self.put(tag, slot_key(partition, slot), None);
        }
        for (slot, t) in touched {
            self.put(
                tag,
                slot_key(partition, slot),
                Some(encode_slot(&t.key, t.start, &t.accumulator)),
            );
        }
        self.put(
            tag,
            meta_key(partition),
            Some(encode_meta(windows.watermark, windows.slots)),
        );
    }

    /// Emits and removes the windows the watermark (less the allowed
    /// lateness) has passed, whose
    /// accumulators are taken from `touched`; returns the records and the
    /// slots the windows held. A window that cannot be emitted goes to
    /// `failed`.
    fn close(
        &self,
        instance: &mut PluginInstance,
        windows: &mut Partition,
        touched: &mut BTreeMap<u64, Touched>,
        batch: &Batch,
        policy: &RetryPolicy,
        failed: &mut Vec<FailedRecord>,
    ) -> Result<(Vec<Record>, Vec<u64>), PluginError> {
        let mut slots = Vec::new();
        let Some(until) = windows.watermark.map(|w| w.saturating_sub(self.lateness)) else {
            return Ok((Vec::new(), slots));
        };
        let mut closed = Vec::new();
        for (&(start, ref key), &slot) in &windows.open {
            if start.saturating_add(self.size) > until {
                break;
            }
            let Some(t) = touched.remove(&slot) else {
                continue;
            };
            debug_assert!(t.key == *key && t.start == start);
            slots.push(slot);
            closed.push(ClosedWindow {
                key: t.key,
                start,
                end: start.saturating_add(self.size),
                accumulator: t.accumulator,
            });
        }
        if closed.is_empty() {
            return Ok((Vec::new(), slots));
        }
        let emitted = instance.emit_isolated(&closed)?;
        let mut outputs = emitted.records;
        for (index, error) in emitted.failed {
            let w = &closed[index];
            match self.retry(instance, w, index, policy, error) {
                Ok(records) => outputs.extend(records),
                Err((error, attempts)) => {
                    failed.extend(self.dead_letter(batch, w, &error, attempts));
                }
            }
        }
        outputs.sort_by_key(|o| o.window);
        self.closed.inc_by(closed.len() as u64);
        for (w, &slot) in closed.iter().zip(&slots) {
            windows.open.remove(&(w.start, w.key.clone()));
            windows.release(slot);
        }
        let Some(position) = batch.records.last().map(|r| r.position.clone()) else {
            return Ok((Vec::new(), slots));
        };
        let records = outputs
            .into_iter()
            .filter_map(|o| {
                let w = closed.get(o.window)?;
                Some(Record {
                    key: o.key,
                    value: o.value,
                    headers: o.headers,
                    timestamp_ms: w.end - 1,
                    position: position.clone(),
                    score: None,
                    labels: Vec::new(),
                })
            })
            .collect();
        Ok((records, slots))
    }

    /// Emits `window` (number `index` of the closing ones) alone again, up
    /// to `policy.max_retries` times; its records, or the last error and
    /// how many attempts were made.
    fn retry(
        &self,
        instance: &mut PluginInstance,
        window: &ClosedWindow,
        index: usize,
        policy: &RetryPolicy,
        mut error: PluginError,
    ) -> Result<Vec<WindowOutput>, (PluginError, u32)> {
        let mut attempts = 1;
        while attempts <= policy.max_retries {
            let delay = policy.delay(attempts);
            tracing::warn!(
                plugin = %instance.plugin().name(),
                retry = attempts,
                delay_ms = delay.as_millis() as u64,
                "emit of the {} failed, retrying: {error}",
                window.describe()
            );
            std::thread::sleep(delay);
            attempts += 1;
            match instance.emit(std::slice::from_ref(window)) {
                Ok(records) => {
                    return Ok(records
                        .into_iter()
                        .map(|mut r| {
                            r.window = index;
                            r
                        })
                        .collect());
                }
                Err(e) => error = e,
            }
        }
        Err((error, attempts))
    }

    /// The dead letter of a window that could not be emitted: keyed by the
    /// window's key, its value the accumulator, at the position of the
    /// batch's last record.
    fn dead_letter(
        &self,
        batch: &Batch,
        window: &ClosedWindow,
        error: &PluginError,
        attempts: u32,
    ) -> Option<FailedRecord> {
        let position = batch.records.last()?.position.clone();
        let what = window.describe();
        tracing::error!(
            partition = %batch.partition,
            attempts,
            "{what} could not be emitted, sending it to the failure destination: {error}"
        );
        Some(FailedRecord {
            record: Record {
                key: (!window.key.is_empty()).then(|| window.key.clone().into()),
                value: window.accumulator.clone().into(),
                headers: vec![
                    Header::new(WINDOW_START_HEADER, window.start.to_string()),
                    Header::new(WINDOW_END_HEADER, window.end.to_string()),
                ],
                timestamp_ms: window.end - 1,
                position,
                score: None,
                labels: Vec::new(),
            },
            error: format!(
                "emit of the {what} failed ({attempts} attempt{}); the window was removed \
                 without output, its accumulator is this letter's value: {error}",
                if attempts == 1 { "" } else { "s" }
            ),
        })
    }
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
