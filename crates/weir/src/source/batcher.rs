//! Cutting records that arrive from many partitions into per-partition
//! batches, for sources whose client delivers records one by one (Kafka
//! consumers, the multi-partition generator).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::BatchLimits;
use crate::record::{Batch, Record};

/// An open batch of one partition.
struct Open {
    origin: Arc<str>,
    records: Vec<Record>,
    bytes: usize,
    opened: Instant,
}

/// Collects records per partition and hands out a partition's batch when it
/// is full (`max_records`, or the next record would pass `max_bytes`) or
/// its batching window (`max_wait_ms` since its first record) has closed.
/// Each batch holds records of one partition, in the order they were pushed.
pub struct PartitionBatcher {
    limits: BatchLimits,
    open: HashMap<Arc<str>, Open>,
    ready: VecDeque<Batch>,
}

impl PartitionBatcher {
    /// A batcher cutting by `limits`.
    pub fn new(limits: BatchLimits) -> Self {
        PartitionBatcher {
            limits,
            open: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_millis(self.limits.max_wait_ms)
    }

    fn close(&mut self, partition: &Arc<str>) {
        if let Some(o) = self.open.remove(partition) {
            self.ready.push_back(Batch {
                origin: o.origin,
                partition: partition.clone(),
                records: o.records,
            });
        }
    }

    /// Adds `record` of `origin`/`partition` at time `now`.
    pub fn push(&mut self, origin: &Arc<str>, partition: &Arc<str>, record: Record, now: Instant) {
        let size = record.size();
        let fits = self
            .open
            .get(partition)
            .is_none_or(|o| self.limits.admits(o.records.len(), o.bytes, size));
        if !fits {
            self.close(partition);
        }
        let open = self.open.entry(partition.clone()).or_insert_with(|| Open {
            origin: origin.clone(),
            records: Vec::new(),
            bytes: 0,
            opened: now,
        });
        open.records.push(record);
        open.bytes = open.bytes.saturating_add(size);
        if open.records.len() >= self.limits.max_records || open.bytes >= self.limits.max_bytes {
            self.close(partition);
        }
    }

    /// A batch that is full, or whose window has closed by `now`.
    pub fn pop(&mut self, now: Instant) -> Option<Batch> {
        if let Some(b) = self.ready.pop_front() {
            return Some(b);
        }
        let window = self.window();
        let expired = self
            .open
            .iter()
            .filter(|(_, o)| o.opened + window <= now)
            .min_by_key(|(_, o)| o.opened)
            .map(|(p, _)| p.clone())?;
        self.close(&expired);
        self.ready.pop_front()
    }

    /// When the oldest open batch's window closes, if any batch is open.
    pub fn deadline(&self) -> Option<Instant> {
        let window = self.window();
        self.open.values().map(|o| o.opened + window).min()
    }

    /// Any batch, ready or open, oldest first: for when the input ended.
    pub fn flush(&mut self) -> Option<Batch> {
        if let Some(b) = self.ready.pop_front() {
            return Some(b);
        }
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, o)| o.opened)
            .map(|(p, _)| p.clone())?;
        self.close(&oldest);
        self.ready.pop_front()
    }

    /// Drops every record of `partition`, open or ready (its partition was
    /// taken away, e.g. by a consumer-group rebalance); how many were
    /// dropped.
    pub fn discard(&mut self, partition: &str) -> usize {
        let mut n = self.open.remove(partition).map_or(0, |o| o.records.len());
        self.ready.retain(|b| {
            let keep = &*b.partition != partition;
            if !keep {
                n += b.records.len();
            }
            keep
        });
        n
    }

    /// Whether no record is waiting.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Position;

    fn rec(i: u64, size: usize) -> Record {
        Record::new(vec![b'x'; size], Position::Offset(i), 0)
    }

    fn sizes(b: &Batch) -> Vec<u64> {
        b.records
            .iter()
            .map(|r| match r.position {
                Position::Offset(o) => o,
                Position::Sequence(_) => u64::MAX,
            })
            .collect()
    }

    #[test]
    fn each_limit_cuts_per_partition() {
        let limits = BatchLimits {
            max_records: 3,
            max_bytes: 25,
            max_wait_ms: 100,
        };
        let mut b = PartitionBatcher::new(limits);
        let (o, p0, p1): (Arc<str>, Arc<str>, Arc<str>) = ("t".into(), "0".into(), "1".into());
        let t0 = Instant::now();
        // Partition 0 fills by count; partition 1 by bytes.
        for i in 0..3 {
            b.push(&o, &p0, rec(i, 1), t0);
        }
        b.push(&o, &p1, rec(10, 10), t0);
        b.push(&o, &p1, rec(11, 10), t0);
        b.push(&o, &p1, rec(12, 10), t0); // would make 30 > 25 bytes
        let full = b.pop(t0).map(|b| (b.partition.to_string(), sizes(&b)));
        assert_eq!(full, Some(("0".into(), vec![0, 1, 2])));
        let by_bytes = b.pop(t0).map(|b| (b.partition.to_string(), sizes(&b)));
        assert_eq!(by_bytes, Some(("1".into(), vec![10, 11])));
        // The rest waits for its window.
        assert!(b.pop(t0 + Duration::from_millis(99)).is_none());
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(100)));
        let late = b.pop(t0 + Duration::from_millis(100)).map(|b| sizes(&b));
        assert_eq!(late, Some(vec![12]));
        assert!(b.is_empty());
    }

    #[test]
    fn flush_hands_over_everything_oldest_first() {
        let mut b = PartitionBatcher::new(BatchLimits::default());
        let (o, p0, p1): (Arc<str>, Arc<str>, Arc<str>) = ("t".into(), "0".into(), "1".into());
        let t0 = Instant::now();
        b.push(&o, &p1, rec(1, 1), t0);
        b.push(&o, &p0, rec(2, 1), t0 + Duration::from_millis(1));
        assert_eq!(b.flush().map(|b| b.partition.to_string()), Some("1".into()));
        assert_eq!(b.flush().map(|b| b.partition.to_string()), Some("0".into()));
        assert!(b.flush().is_none());
    }

    #[test]
    fn discard_drops_one_partition_open_and_ready() {
        let limits = BatchLimits {
            max_records: 2,
            ..BatchLimits::default()
        };
        let mut b = PartitionBatcher::new(limits);
        let (o, p0, p1): (Arc<str>, Arc<str>, Arc<str>) = ("t".into(), "0".into(), "1".into());
        let t0 = Instant::now();
        for i in 0..3 {
            b.push(&o, &p0, rec(i, 1), t0); // one ready batch of 2, one open
        }
        b.push(&o, &p1, rec(9, 1), t0);
        assert_eq!(b.discard("0"), 3);
        assert_eq!(b.discard("0"), 0);
        assert_eq!(b.flush().map(|b| sizes(&b)), Some(vec![9]));
        assert!(b.is_empty());
    }
}
