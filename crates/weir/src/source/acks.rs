//! The acknowledgement handle a source receives: which positions are safe.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::record::Position;

/// Positions the runtime has made durable, per partition, for the source
/// to pass on to its service (commit Kafka offsets, checkpoint a Kinesis
/// lease). A position arrives here once every record of its partition up
/// to and including it was acknowledged by every sink (records the filter
/// skipped or a stage dropped included) and weir's own checkpoint store
/// holds it — whether or not the source is in
/// [`next_batch`](super::Source::next_batch) at the time.
///
/// Only the newest position of each partition is kept until the source
/// takes it, so a source that never reads the handle costs nothing.
/// Clones share the same positions.
#[derive(Debug, Clone, Default)]
pub struct Acks {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    pending: Mutex<BTreeMap<Arc<str>, Position>>,
    notify: Notify,
}

impl Acks {
    /// A handle with nothing acknowledged yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record of `partition` up to and including `position` is safe.
    pub fn acknowledge(&self, partition: Arc<str>, position: Position) {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(partition, position);
        self.inner.notify.notify_one();
    }

    /// Takes the positions acknowledged since the last call, the newest
    /// per partition, in partition order.
    pub fn take(&self) -> Vec<(Arc<str>, Position)> {
        let mut pending = self
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *pending).into_iter().collect()
    }

    /// Resolves when positions may be waiting to be taken (at once if any
    /// arrived since the last wait). Safe to use in `select!`.
    pub async fn changed(&self) {
        self.inner.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_newest_position_per_partition_and_wakes_the_reader() {
        let acks = Acks::new();
        let (p0, p1): (Arc<str>, Arc<str>) = (Arc::from("0"), Arc::from("1"));
        acks.acknowledge(p0.clone(), Position::Offset(3));
        acks.acknowledge(p1.clone(), Position::Offset(1));
        acks.acknowledge(p0.clone(), Position::Offset(9));
        // A notification sent before anyone waits is not lost.
        tokio::time::timeout(std::time::Duration::from_secs(5), acks.changed())
            .await
            .unwrap_or_else(|_| panic!("no wake-up"));
        assert_eq!(
            acks.take(),
            vec![(p0, Position::Offset(9)), (p1, Position::Offset(1))]
        );
        assert!(acks.take().is_empty());
    }
}
