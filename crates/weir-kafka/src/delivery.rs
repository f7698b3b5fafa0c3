//! Delivery reports of one sink write: the producer's delivery callback
//! counts each record off, and the write wakes once when all are in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::producer::{DeliveryResult, ProducerContext};
use tokio::sync::Notify;

use crate::context::WeirContext;

/// The outstanding records of one write.
pub(crate) struct Tracker {
    remaining: AtomicUsize,
    failed: Mutex<Vec<(usize, String)>>,
    done: Notify,
}

/// What travels with each record through librdkafka: its write and its
/// index in that write.
pub(crate) struct Pending {
    pub(crate) tracker: Arc<Tracker>,
    pub(crate) index: usize,
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

    /// Waits for every record; the failed ones (index, error) by index.
    pub(crate) async fn finished(&self) -> Vec<(usize, String)> {
        if self.remaining.load(Ordering::Acquire) > 0 {
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

impl ProducerContext for WeirContext {
    type DeliveryOpaque = Box<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, pending: Box<Pending>) {
        let error = result.as_ref().err().map(|(e, _)| e.to_string());
        pending.tracker.settle(pending.index, error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_finishes_when_every_record_is_settled() {
        let t = Tracker::new(3);
        t.settle(2, Some("broker said no".into()));
        t.settle(0, None);
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.finished().await })
        };
        t.settle(1, None);
        let failed = waiter.await.unwrap_or_default();
        assert_eq!(failed, vec![(2, "broker said no".to_string())]);
        // Settled before anyone waits: no wait at all.
        let t = Tracker::new(1);
        t.settle(0, None);
        assert!(t.finished().await.is_empty());
    }
}
