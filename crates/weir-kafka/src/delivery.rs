//! Delivery reports of sink writes. Each record travels through
//! librdkafka with a number that names its write and its index in that
//! write (no allocation per record); the producer's delivery callback
//! counts it off its write, and the write wakes once when all are in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use tokio::sync::Notify;

use crate::context::WeirContext;

// A record's number packs its write's slot and its index in 32 bits each.
const _: () = assert!(usize::BITS >= 64);
const INDEX_BITS: u32 = 32;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

/// The most records in one write (an index must fit its 32 bits).
pub(crate) const MAX_WRITE: usize = INDEX_MASK;

/// The outstanding records of one write.
pub(crate) struct Tracker {
    remaining: AtomicUsize,
    failed: Mutex<Vec<(usize, String)>>,
    done: Notify,
}

impl Tracker {
    /// A write of `records` records.
    pub(crate) fn new(records: usize) -> Arc<Self> {
        Arc::new(Tracker {
            remaining: AtomicUsize::new(records),
            failed: Mutex::new(Vec::new()),
            done: Notify::new(),
        })
    }

    /// Counts record `index` off, as failed with `error` if given.
    pub(crate) fn settle(&self, index: usize, error: Option<String>) {
        if let Some(e) = error
            && let Ok(mut failed) = self.failed.lock()
        {
            failed.push((index, e));
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A stored permit if the write is not waiting yet.
            self.done.notify_one();
        }
    }

    fn settled(&self) -> bool {
        self.remaining.load(Ordering::Acquire) == 0
    }

    /// Waits for every record; the failed ones (index, error) by index.
    pub(crate) async fn finished(&self) -> Vec<(usize, String)> {
        if !self.settled() {
            self.done.notified().await;
        }
        let mut failed = self
            .failed
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        failed.sort_unstable_by_key(|(i, _)| *i);
        failed
    }
}

/// A slot of [`Writes`].
struct Slot {
    tracker: Arc<Tracker>,
    /// Its write is gone (cancelled) with reports still to come: the slot
    /// is freed by the last of them, never reused before.
    retired: bool,
}

/// The writes in flight on one producer, by slot.
#[derive(Default)]
pub(crate) struct Writes {
    slots: Mutex<Slots>,
}

/// A write registered in [`Writes`]; its slot is given back when dropped.
pub(crate) struct Write<'a> {
    writes: &'a Writes,
    slot: usize,
    /// The write's records.
    pub(crate) tracker: Arc<Tracker>,
}

impl Write<'_> {
    /// The number record `index` of this write travels with.
    pub(crate) fn number(&self, index: usize) -> usize {
        (self.slot << INDEX_BITS) | (index & INDEX_MASK)
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        let mut guard = self.writes.lock();
        let (slots, free) = &mut *guard;
        if self.tracker.settled() {
            slots[self.slot] = None;
            free.push(self.slot);
        } else if let Some(Some(s)) = slots.get_mut(self.slot) {
            s.retired = true;
        }
    }
}

type Slots = (Vec<Option<Slot>>, Vec<usize>);

impl Writes {
    /// The slots; a panic elsewhere while they were held leaves them
    /// consistent (every change is one assignment), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a write of `records` records (at most [`MAX_WRITE`]).
    pub(crate) fn register(&self, records: usize) -> Write<'_> {
        let tracker = Tracker::new(records);
        let slot = {
            let mut guard = self.lock();
            let (slots, free) = &mut *guard;
            let entry = Some(Slot {
                tracker: tracker.clone(),
                retired: false,
            });
            match free.pop() {
                Some(i) => {
                    slots[i] = entry;
                    i
                }
                None => {
                    slots.push(entry);
                    slots.len() - 1
                }
            }
        };
        Write {
            writes: self,
            slot,
            tracker,
        }
    }

    /// The delivery report of the record numbered `number`.
    fn settle(&self, number: usize, error: Option<String>) {
        let (slot, index) = (number >> INDEX_BITS, number & INDEX_MASK);
        let mut guard = self.lock();
        let (slots, free) = &mut *guard;
        let Some(Some(s)) = slots.get(slot) else {
            return;
        };
        s.tracker.settle(index, error);
        if s.retired && s.tracker.settled() {
            slots[slot] = None;
            free.push(slot);
        }
    }
}

impl ProducerContext for WeirContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, number: usize) {
        let error = result.as_ref().err().map(|(e, _)| e.to_string());
        self.writes.settle(number, error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_finishes_when_every_record_is_settled() {
        let writes = Writes::default();
        let w = writes.register(3);
        writes.settle(w.number(2), Some("broker said no".into()));
        writes.settle(w.number(0), None);
        let waiter = {
            let t = w.tracker.clone();
            tokio::spawn(async move { t.finished().await })
        };
        writes.settle(w.number(1), None);
        let failed = waiter.await.unwrap_or_default();
        assert_eq!(failed, vec![(2, "broker said no".to_string())]);
        drop(w);
        // Settled before anyone waits: no wait at all; the slot is reused.
        let w = writes.register(1);
        assert_eq!(w.number(0), 0);
        writes.settle(w.number(0), None);
        assert!(w.tracker.finished().await.is_empty());
    }

    #[test]
    fn a_cancelled_write_keeps_its_slot_until_its_last_report() {
        let writes = Writes::default();
        let w = writes.register(2);
        let (first, second) = (w.number(0), w.number(1));
        let tracker = w.tracker.clone();
        drop(w); // cancelled with two reports to come
        let next = writes.register(1);
        assert_ne!(next.number(0) >> INDEX_BITS, first >> INDEX_BITS);
        writes.settle(first, None);
        writes.settle(second, None);
        assert!(tracker.settled());
        // The retired slot is free again; the live write is untouched.
        assert!(!next.tracker.settled());
        let again = writes.register(1);
        assert_eq!(again.number(0) >> INDEX_BITS, first >> INDEX_BITS);
    }
}
