//! Consumer-group rebalances: which partitions this process owns, and where
//! a newly assigned partition starts.
//!
//! The group uses the cooperative-sticky assignor, so a rebalance only moves
//! the partitions that change owner. The rebalance callback runs inside the
//! consumer's poll; it records each change for the source, which applies
//! them before it looks at the next message (dropping records of revoked
//! partitions that are still waiting to be batched).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;

use crate::context::WeirContext;
use crate::options::Start;

/// A change of this consumer's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The partition is now read by this consumer.
    Assigned(String, i32),
    /// The partition was taken away (or lost).
    Revoked(String, i32),
}

/// The assignment changes not yet seen by the source.
pub(crate) struct Assignments {
    start: Start,
    changed: AtomicBool,
    changes: Mutex<Vec<Change>>,
}

impl Assignments {
    pub(crate) fn new(start: Start) -> Self {
        Assignments {
            start,
            changed: AtomicBool::new(false),
            changes: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, tpl: &TopicPartitionList, change: fn(String, i32) -> Change) {
        if let Ok(mut changes) = self.changes.lock() {
            for e in tpl.elements() {
                changes.push(change(e.topic().to_string(), e.partition()));
            }
        }
        self.changed.store(true, Ordering::Release);
    }

    /// The changes since the last call (cheap when there are none).
    pub(crate) fn take(&self) -> Vec<Change> {
        if !self.changed.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        self.changes
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// With a timestamp start, positions each partition the group has no
    /// offset for at the first record at or after that time.
    fn position(
        &self,
        consumer: &BaseConsumer<WeirContext>,
        tpl: &mut TopicPartitionList,
        role: &str,
    ) {
        let Start::Timestamp(ms) = self.start else {
            return;
        };
        let timeout = Duration::from_secs(10);
        let committed = match consumer.committed_offsets(tpl.clone(), timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(client = %role, "reading the group's offsets failed ({e}); partitions start at their committed offsets or the newest record");
                return;
            }
        };
        let mut times = TopicPartitionList::new();
        for e in committed.elements() {
            if !matches!(e.offset(), Offset::Offset(_)) {
                let _ = times.add_partition_offset(e.topic(), e.partition(), Offset::Offset(ms));
            }
        }
        if times.count() == 0 {
            return;
        }
        match consumer.offsets_for_times(times, timeout) {
            Ok(found) => {
                for e in found.elements() {
                    // No record at or after the time: start at the end.
                    let offset = match e.offset() {
                        Offset::Offset(o) => Offset::Offset(o),
                        _ => Offset::End,
                    };
                    tracing::info!(client = %role, topic = e.topic(), partition = e.partition(), "no committed offset: starting at {offset:?} (first record at or after {ms} ms)");
                    let _ = tpl.set_partition_offset(e.topic(), e.partition(), offset);
                }
            }
            Err(e) => {
                tracing::warn!(client = %role, "looking up offsets for time {ms} failed ({e}); new partitions start at the newest record");
            }
        }
    }
}

impl ConsumerContext for WeirContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Some(a) = &self.assignments {
                    a.position(consumer, tpl, &self.role);
                    a.record(tpl, Change::Assigned);
                }
                tracing::info!(client = %self.role, partitions = %names(tpl), "partitions assigned");
                if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                }
            }
            other => {
                if other != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
                    tracing::error!(client = %self.role, "rebalance failed: {other:?}; giving up the partitions");
                }
                if let Some(a) = &self.assignments {
                    a.record(tpl, Change::Revoked);
                }
                let lost = consumer.assignment_lost();
                tracing::info!(client = %self.role, partitions = %names(tpl), lost, "partitions revoked");
                if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                }
            }
        };
        if let Err(e) = result {
            tracing::error!(client = %self.role, "applying the rebalance failed: {e}");
        }
    }
}

/// `topic/partition` names of a partition list, for logs.
fn names(tpl: &TopicPartitionList) -> String {
    tpl.elements()
        .iter()
        .map(|e| format!("{}/{}", e.topic(), e.partition()))
        .collect::<Vec<_>>()
        .join(",")
}
