//! Event-time tumbling windows for aggregator stages.
//!
//! Each record falls into the window `[start, start + size)` with `start`
//! its timestamp rounded down to a multiple of `size`, per key (or per
//! partition). The open windows of a partition — their accumulators, which
//! only the plugin understands — and the partition's watermark (the newest
//! timestamp seen) are one value in the stage's state, written with the
//! batch's tag: they are committed together with the source checkpoint, so
//! a restart resumes the windows exactly where the checkpoint left them.
//!
//! When the watermark minus the allowed lateness passes a window's end,
//! the window closes: the plugin's `emit` turns its accumulator into output
//! records, timestamped `end - 1` and placed at the position of the batch's
//! last record. A record for a window that already closed is late: it goes
//! to the failure destination. Open windows stay open when a bounded source
//! ends; they close when later records arrive.

use std::collections::BTreeMap;

use super::settings::{WindowBy, WindowConfig};
use crate::metrics::Counter;
use crate::plugin::{
    CallFailure, ClosedWindow, FailedRecord, Outcome, PluginError, PluginInstance, WindowGroup,
};
use crate::record::{Batch, Record};
use crate::state::StateHandle;

/// The window operator of one aggregator stage.
pub(crate) struct Windows {
    size: i64,
    lateness: i64,
    by: WindowBy,
    state: StateHandle,
    /// Windows closed (emitted), for the metrics.
    closed: Counter,
}

/// The open windows of one partition.
#[derive(Debug, Default, PartialEq)]
struct Table {
    watermark: Option<i64>,
    /// `(key, start)` to accumulator.
    open: BTreeMap<(Vec<u8>, i64), Vec<u8>>,
}

const TABLE_VERSION: u8 = 1;

impl Table {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![TABLE_VERSION];
        out.extend_from_slice(&self.watermark.unwrap_or(i64::MIN).to_le_bytes());
        out.extend_from_slice(&(self.open.len() as u64).to_le_bytes());
        for ((key, start), acc) in &self.open {
            out.extend_from_slice(&(key.len() as u64).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(&start.to_le_bytes());
            out.extend_from_slice(&(acc.len() as u64).to_le_bytes());
            out.extend_from_slice(acc);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader(bytes);
        if r.take(1)? != [TABLE_VERSION] {
            return Err("unknown window state version".into());
        }
        let watermark = r.i64()?;
        let n = r.u64()?;
        let mut open = BTreeMap::new();
        for _ in 0..n {
            let len = usize::try_from(r.u64()?).map_err(|e| e.to_string())?;
            let key = r.take(len)?.to_vec();
            let start = r.i64()?;
            let len = usize::try_from(r.u64()?).map_err(|e| e.to_string())?;
            open.insert((key, start), r.take(len)?.to_vec());
        }
        Ok(Table {
            watermark: (watermark != i64::MIN).then_some(watermark),
            open,
        })
    }
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
        }
    }

    /// Where the windows' state lives.
    pub(crate) fn state(&self) -> &StateHandle {
        &self.state
    }

    fn load(&self, partition: &str) -> Result<Table, PluginError> {
        let err = |m: String| {
            PluginError::Engine(format!("window state of partition `{partition}`: {m}"))
        };
        match self.state.get(partition).map_err(|e| err(e.to_string()))? {
            Some(bytes) => Table::decode(&bytes).map_err(err),
            None => Ok(Table::default()),
        }
    }

    fn key_of(&self, record: &Record) -> Vec<u8> {
        match self.by {
            WindowBy::Key => record.key.as_deref().unwrap_or_default().to_vec(),
            WindowBy::Partition => Vec::new(),
        }
    }

    /// Folds `batch` into its windows and emits the windows it closes; the
    /// new window table is written with `tag`.
    pub(crate) fn process(
        &self,
        instance: &mut PluginInstance,
        batch: Batch,
        tag: u64,
    ) -> Result<Outcome, Box<CallFailure>> {
        let mut table = match self.load(&batch.partition) {
            Ok(t) => t,
            Err(e) => return Err(fail(e, batch)),
        };
        let closed_before = table.watermark.map(|w| w.saturating_sub(self.lateness));
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
        let groups: Vec<WindowGroup> = groups
            .into_iter()
            .map(|((key, start), records)| WindowGroup {
                accumulator: table.open.get(&(key.clone(), start)).cloned(),
                end: start.saturating_add(self.size),
                key,
                start,
                records,
            })
            .collect();
        let accumulated = if groups.is_empty() {
            None
        } else {
            match instance.accumulate(&batch, &groups) {
                Ok(a) => Some(a),
                Err(e) => return Err(fail(e, batch)),
            }
        };
        let mut failed = Vec::new();
        if let Some(a) = accumulated {
            for (g, acc) in groups.into_iter().zip(a.accumulators) {
                table.open.insert((g.key, g.start), acc);
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
                        table.watermark.unwrap_or_default()
                    ),
                });
            }
        }
        let newest = batch.records.iter().map(|r| r.timestamp_ms).max();
        table.watermark = table.watermark.max(newest);
        let records = match self.close(instance, &mut table, &batch) {
            Ok(r) => r,
            Err(e) => return Err(fail(e, batch)),
        };
        self.state
            .write(tag, &batch.partition, Some(table.encode()));
        Ok(Outcome {
            records,
            failed,
            dropped: 0,
        })
    }

    /// Emits and removes the windows the watermark has passed.
    fn close(
        &self,
        instance: &mut PluginInstance,
        table: &mut Table,
        batch: &Batch,
    ) -> Result<Vec<Record>, PluginError> {
        let Some(limit) = table.watermark.map(|w| w.saturating_sub(self.lateness)) else {
            return Ok(Vec::new());
        };
        let mut closed: Vec<ClosedWindow> = table
            .open
            .iter()
            .filter(|((_, start), _)| start.saturating_add(self.size) <= limit)
            .map(|((key, start), acc)| ClosedWindow {
                key: key.clone(),
                start: *start,
                end: start.saturating_add(self.size),
                accumulator: acc.clone(),
            })
            .collect();
        if closed.is_empty() {
            return Ok(Vec::new());
        }
        closed.sort_by(|a, b| (a.end, &a.key).cmp(&(b.end, &b.key)));
        let outputs = instance.emit(&closed)?;
        self.closed.inc_by(closed.len() as u64);
        for w in &closed {
            table.open.remove(&(w.key.clone(), w.start));
        }
        let Some(position) = batch.records.last().map(|r| r.position.clone()) else {
            return Ok(Vec::new());
        };
        Ok(outputs
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
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_and_rejects_truncation() {
        let mut t = Table {
            watermark: Some(120_000),
            open: BTreeMap::new(),
        };
        t.open.insert((b"car-1".to_vec(), 60_000), vec![1, 2, 3]);
        t.open.insert((Vec::new(), 0), Vec::new());
        let bytes = t.encode();
        assert_eq!(Table::decode(&bytes), Ok(t));
        assert!(Table::decode(&bytes[..bytes.len() - 1]).is_err());
        assert_eq!(
            Table::decode(&Table::default().encode()),
            Ok(Table::default())
        );
    }
}
