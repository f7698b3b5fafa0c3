//! Cutting records that arrive from many partitions into per-partition
//! batches, for sources whose client delivers records one by one (Kafka
//! consumers, the multi-partition generator).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::BatchLimits;
use crate::record::{Batch, Record};

/// An open batch of one partition.
struct Open {
    origin: Arc<str>,
    partition: Arc<str>,
    records: Vec<Record>,
    bytes: usize,
    opened: Instant,
}

/// Collects records per partition and hands out a partition's batch when it
/// is full (`max_records`, or the next record would pass `max_bytes`) or
/// its batching window (`max_wait_ms` since its first record) has closed.
/// Each batch holds records of one partition, in the order they were pushed.
///
/// Built for the per-record path of a source: finding the open batch of the
/// partition the last record went to is one pointer comparison (records
/// arrive in runs per partition), and [`pop`](Self::pop) reads no clock and
/// scans nothing until the oldest window can have closed.
pub struct PartitionBatcher {
    limits: BatchLimits,
    /// Open batches, at most one per partition.
    open: Vec<Open>,
    /// Where the last record went in `open`: where the next one most
    /// likely goes.
    last: usize,
    /// When the oldest open batch's window closes (`None`: none is open).
    earliest: Option<Instant>,
    ready: VecDeque<Batch>,
}

impl PartitionBatcher {
    /// A batcher cutting by `limits`.
    pub fn new(limits: BatchLimits) -> Self {
        PartitionBatcher {
            limits,
            open: Vec::new(),
            last: 0,
            earliest: None,
            ready: VecDeque::new(),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_millis(self.limits.max_wait_ms)
    }

    /// The index of `partition`'s open batch.
    fn find(&self, partition: &Arc<str>) -> Option<usize> {
        if let Some(o) = self.open.get(self.last)
            && Arc::ptr_eq(&o.partition, partition)
        {
            return Some(self.last);
        }
        self.open
            .iter()
            .position(|o| Arc::ptr_eq(&o.partition, partition) || o.partition == *partition)
    }

    /// Moves open batch `i` to the ready queue.
    fn close(&mut self, i: usize) {
        let o = self.open.swap_remove(i);
        self.ready.push_back(Batch {
            origin: o.origin,
            partition: o.partition,
            records: o.records,
        });
        let window = self.window();
        self.earliest = self.open.iter().map(|o| o.opened + window).min();
    }

    /// Adds `record` of `origin`/`partition` at time `now`.
    pub fn push(&mut self, origin: &Arc<str>, partition: &Arc<str>, record: Record, now: Instant) {
        let size = record.size();
        let mut at = self.find(partition);
        if let Some(i) = at
            && !self
                .limits
                .admits(self.open[i].records.len(), self.open[i].bytes, size)
        {
            self.close(i);
            at = None;
        }
        let i = match at {
            Some(i) => i,
            None => {
                let opened = Open {
                    origin: origin.clone(),
                    partition: partition.clone(),
                    records: Vec::with_capacity(self.limits.max_records.clamp(1, 1024)),
                    bytes: 0,
                    opened: now,
                };
                self.open.push(opened);
                let closes = now + self.window();
                self.earliest = Some(self.earliest.map_or(closes, |e| e.min(closes)));
                self.open.len() - 1
            }
        };
        self.last = i;
        let open = &mut self.open[i];
        open.records.push(record);
        open.bytes = open.bytes.saturating_add(size);
        if open.records.len() >= self.limits.max_records || open.bytes >= self.limits.max_bytes {
            self.close(i);
        }
    }

    /// A batch that is full, or whose window has closed by `now`.
    pub fn pop(&mut self, now: Instant) -> Option<Batch> {
        if let Some(b) = self.ready.pop_front() {
            return Some(b);
        }
        if self.earliest.is_none_or(|e| e > now) {
            return None;
        }
        let window = self.window();
        let expired = self
            .open
            .iter()
            .enumerate()
            .filter(|(_, o)| o.opened + window <= now)
            .min_by_key(|(_, o)| o.opened)
            .map(|(i, _)| i)?;
        self.close(expired);
        self.ready.pop_front()
    }

    /// When the oldest open batch's window closes, if any batch is open.
    pub fn deadline(&self) -> Option<Instant> {
        self.earliest
    }

    /// Any batch, ready or open, oldest first: for when the input ended.
    pub fn flush(&mut self) -> Option<Batch> {
        if let Some(b) = self.ready.pop_front() {
            return Some(b);
        }
        let oldest = self
            .open
            .iter()
            .enumerate()
            .min_by_key(|(_, o)| o.opened)
            .map(|(i, _)| i)?;
        self.close(oldest);
        self.ready.pop_front()
    }

    /// Drops every record of `partition`, open or ready (its partition was
    /// taken away, e.g. by a consumer-group rebalance); how many were
    /// dropped.
    pub fn discard(&mut self, partition: &str) -> usize {
        let mut n = 0;
        if let Some(i) = self.open.iter().position(|o| &*o.partition == partition) {
            n += self.open.swap_remove(i).records.len();
            let window = self.window();
            self.earliest = self.open.iter().map(|o| o.opened + window).min();
        }
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
