//! The Kafka source: a consumer-group member that hands out per-partition
//! batches and commits only acknowledged offsets.
//!
//! Offsets: librdkafka's offset store is filled only from the runtime's
//! acknowledgements ([`weir::Acks`], `enable.auto.offset.store = false`),
//! which arrive once every record up to a position has been acknowledged
//! by every sink (dropped records included), also while the source waits
//! for records. librdkafka commits the stored
//! offsets every `commit_interval`, when partitions are revoked, and at
//! [`Source::close`]. weir's own store also keeps the acknowledged position
//! of each partition with the plugins' state; after a crash, records up to
//! it are skipped rather than processed twice, so the uncommitted tail is
//! only re-read, never re-applied to plugin state. (So a topic deleted and
//! created again under the same name needs `weir run --reset` or a new
//! group: its new records would sit below the old checkpoints.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;
use weir::metrics::Metrics;
use weir::{
    Acks, Batch, BatchLimits, Header, PartitionBatcher, Position, Record, Source, SourceError,
};

use crate::arena::Arena;
use crate::assign::{Assignments, Change};
use crate::context::WeirContext;
use crate::options::SourceOptions;

/// A partition this consumer owns.
#[derive(Clone)]
struct Part {
    origin: Arc<str>,
    /// `topic/partition`: how the runtime names the partition.
    name: Arc<str>,
    /// Offsets below this were acknowledged earlier (weir's checkpoint or
    /// an earlier assignment): skip them.
    skip_below: i64,
}

/// A Kafka consumer-group source (`type = "kafka"`).
pub struct KafkaSource {
    description: String,
    brokers: String,
    topics: Vec<String>,
    config: ClientConfig,
    start: crate::options::Start,
    metrics: Metrics,
    consumer: Option<StreamConsumer<WeirContext>>,
    batcher: Option<PartitionBatcher>,
    /// Owned partitions by topic, then partition number.
    parts: HashMap<String, HashMap<i32, Part>>,
    /// Next offset to read per partition, from weir's checkpoints and the
    /// acknowledgements of this run.
    acked: HashMap<(String, i32), i64>,
    /// Where the runtime's acknowledgements arrive.
    acks: Acks,
    /// Where consumed bytes are copied to.
    arena: Arena,
    /// The partition of the last record read: records arrive in runs per
    /// partition, so most need no lookup. Cleared when the assignment
    /// changes.
    last: Option<(String, i32, Part)>,
}

/// Stores the offset after an acknowledged `position` of `partition` for
/// the consumer's next commit (librdkafka commits stored offsets in the
/// background, and at close). Offsets of partitions this process no longer
/// owns are not stored: their new owner reads those records again.
fn store_ack(
    consumer: Option<&StreamConsumer<WeirContext>>,
    parts: &HashMap<String, HashMap<i32, Part>>,
    acked: &mut HashMap<(String, i32), i64>,
    description: &str,
    partition: &str,
    position: &Position,
) {
    let (Some((topic, p)), Position::Offset(offset)) = (parse_partition(partition), position)
    else {
        tracing::warn!(source = %description, partition, "cannot commit position {position}: not a Kafka partition and offset");
        return;
    };
    let next = next_offset(*offset);
    let entry = acked.entry((topic.to_string(), p)).or_insert(next);
    *entry = (*entry).max(next);
    let owned = parts.get(topic).is_some_and(|t| t.contains_key(&p));
    // `store_offsets` stores exactly the offset given: the next one to
    // read. (`store_offset` would store one more than it is given.)
    let mut tpl = TopicPartitionList::new();
    if let (Some(consumer), true) = (consumer, owned)
        && let Err(e) = tpl
            .add_partition_offset(topic, p, Offset::Offset(*entry))
            .and_then(|()| consumer.store_offsets(&tpl))
    {
        // Revoked between the check and now: the new owner re-reads.
        tracing::debug!(source = %description, partition, "offset {next} not stored: {e}");
    }
}

/// The runtime's name of a partition: `topic/partition` (topic names
/// cannot contain `/`).
pub fn partition_name(topic: &str, partition: i32) -> String {
    format!("{topic}/{partition}")
}

/// The Kafka offset after `offset`: where reading resumes once it is done.
fn next_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX - 1) + 1
}

fn parse_partition(name: &str) -> Option<(&str, i32)> {
    let (topic, p) = name.rsplit_once('/')?;
    Some((topic, p.parse().ok()?))
}

impl KafkaSource {
    /// A source for `options`; connects on the first batch.
    pub fn new(options: &SourceOptions, metrics: Metrics) -> Result<Self, String> {
        let config = options.client_config()?;
        let topics = options.topic_list()?;
        Ok(KafkaSource {
            description: format!("kafka {} group {}", topics.join(","), options.group),
            brokers: options.brokers.clone(),
            topics,
            config,
            start: options.start,
            metrics,
            consumer: None,
            batcher: None,
            parts: HashMap::new(),
            acked: HashMap::new(),
            acks: Acks::new(),
            arena: Arena::default(),
            last: None,
        })
    }

    fn error(&self, message: impl ToString) -> SourceError {
        SourceError::new(&self.description, message)
    }

    fn connect(&mut self) -> Result<(), SourceError> {
        let context = WeirContext::new(
            format!("source `{}`", self.description),
            self.brokers.clone(),
            self.metrics.clone(),
            Some(Assignments::new(self.start)),
        );
        let consumer: StreamConsumer<WeirContext> = self
            .config
            .create_with_context(context)
            .map_err(|e| self.error(format!("creating the consumer: {e}")))?;
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| self.error(format!("subscribing: {e}")))?;
        tracing::info!(source = %self.description, brokers = %self.brokers, "joining the consumer group");
        self.consumer = Some(consumer);
        Ok(())
    }
}

/// Applies assignment changes: new partitions start skipping what was
/// acknowledged before; revoked ones lose the records waiting to be batched.
fn apply(
    changes: Vec<Change>,
    parts: &mut HashMap<String, HashMap<i32, Part>>,
    acked: &HashMap<(String, i32), i64>,
    batcher: &mut PartitionBatcher,
    last: &mut Option<(String, i32, Part)>,
) {
    if !changes.is_empty() {
        *last = None;
    }
    for change in changes {
        match change {
            Change::Assigned(topic, p) => {
                let skip_below = acked.get(&(topic.clone(), p)).copied().unwrap_or(0);
                if skip_below > 0 {
                    tracing::info!(topic = %topic, partition = p, "records below offset {skip_below} were acknowledged earlier (weir's checkpoint): they are skipped if read again");
                }
                let part = Part {
                    origin: topic.as_str().into(),
                    name: partition_name(&topic, p).into(),
                    skip_below,
                };
                parts.entry(topic).or_default().insert(p, part);
            }
            Change::Revoked(topic, p) => {
                let removed = parts.get_mut(&topic).and_then(|t| t.remove(&p));
                if let Some(part) = removed {
                    let dropped = batcher.discard(&part.name);
                    if dropped > 0 {
                        tracing::info!(partition = %part.name, records = dropped, "partition revoked: dropped records not yet batched (the new owner reads them)");
                    }
                }
            }
        }
    }
}

/// The record of `msg`, its bytes copied into `arena`.
fn record(msg: &BorrowedMessage<'_>, arena: &mut Arena) -> Record {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    name: arena.name(h.key),
                    value: h.value.map(|v| arena.copy(v)).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let timestamp_ms = msg.timestamp().to_millis().unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    Record {
        // librdkafka owns the message: its bytes are copied once, here.
        key: msg.key().map(|k| arena.copy(k)),
        value: msg.payload().map(|v| arena.copy(v)).unwrap_or_default(),
        headers,
        timestamp_ms,
        position: Position::Offset(msg.offset().max(0) as u64),
        score: None,
        labels: Vec::new(),
    }
}

/// The owned partition of `msg`, through the one-entry cache `last`.
fn part_of<'a>(
    msg: &BorrowedMessage<'_>,
    parts: &HashMap<String, HashMap<i32, Part>>,
    last: &'a mut Option<(String, i32, Part)>,
) -> Option<&'a Part> {
    let (topic, partition) = (msg.topic(), msg.partition());
    let hit = matches!(last, Some((t, p, _)) if *p == partition && t == topic);
    if !hit {
        let part = parts.get(topic)?.get(&partition)?.clone();
        *last = Some((topic.to_string(), partition, part));
    }
    last.as_ref().map(|(_, _, part)| part)
}

#[async_trait]
impl Source for KafkaSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.consumer.is_none() {
            self.connect()?;
        }
        let KafkaSource {
            consumer: Some(consumer),
            batcher,
            parts,
            acked,
            description,
            acks,
            arena,
            last,
            ..
        } = self
        else {
            return Err(SourceError::new(
                &self.description,
                "the consumer is closed",
            ));
        };
        let batcher = batcher.get_or_insert_with(|| PartitionBatcher::new(*limits));
        let assignments = consumer.context().assignments.as_ref();
        let window = Duration::from_millis(limits.max_wait_ms.max(1));
        // One stream for the whole call: each `recv` would register a waker.
        let mut stream = consumer.stream();
        loop {
            if let Some(a) = assignments {
                apply(a.take(), parts, acked, batcher, last);
            }
            for (partition, position) in acks.take() {
                store_ack(
                    Some(consumer),
                    parts,
                    acked,
                    description,
                    &partition,
                    &position,
                );
            }
            let now = Instant::now();
            if let Some(b) = batcher.pop(now) {
                return Ok(Some(b));
            }
            let sleep = tokio::time::sleep_until(batcher.deadline().unwrap_or(now + window));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    biased;
                    m = stream.next() => match m {
                        None => return Err(SourceError::new(description.as_str(), "the consumer stream ended")),
                        Some(Ok(msg)) => {
                            if let Some(a) = assignments {
                                apply(a.take(), parts, acked, batcher, last);
                            }
                            let Some(part) = part_of(&msg, parts, last) else {
                                continue; // revoked since it was fetched
                            };
                            if msg.offset() < part.skip_below {
                                continue; // acknowledged before the restart
                            }
                            // `now` is read once per wait, not per record: a
                            // batch opened since then closes a little early,
                            // never late.
                            batcher.push(&part.origin, &part.name, record(&msg, arena), now);
                            if let Some(b) = batcher.pop(now) {
                                return Ok(Some(b));
                            }
                        }
                        Some(Err(e)) => {
                            if consumer.context().warning_due() {
                                tracing::warn!(source = %description, "reading from Kafka: {e}");
                            }
                        }
                    },
                    () = acks.changed() => {
                        for (partition, position) in acks.take() {
                            store_ack(Some(consumer), parts, acked, description, &partition, &position);
                        }
                    }
                    () = &mut sleep => break,
                }
            }
        }
    }

    async fn resume(&mut self, partition: &str, position: &Position) -> Result<(), SourceError> {
        if let (Some((topic, p)), Position::Offset(offset)) = (parse_partition(partition), position)
        {
            let next = next_offset(*offset);
            self.acked.insert((topic.to_string(), p), next);
        }
        Ok(())
    }

    async fn open(&mut self, acks: Acks) -> Result<(), SourceError> {
        self.acks = acks;
        Ok(())
    }

    async fn close(&mut self) -> Result<(), SourceError> {
        for (partition, position) in self.acks.take() {
            store_ack(
                self.consumer.as_ref(),
                &self.parts,
                &mut self.acked,
                &self.description,
                &partition,
                &position,
            );
        }
        let Some(consumer) = self.consumer.take() else {
            return Ok(());
        };
        let description = self.description.clone();
        // Commit what was acknowledged, then leave the group so the
        // partitions move to the other members at once.
        tokio::task::spawn_blocking(move || {
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => tracing::info!(source = %description, "offsets committed"),
                Err(e) => tracing::debug!(source = %description, "final commit: {e}"),
            }
            consumer.unsubscribe();
            drop(consumer);
        })
        .await
        .map_err(|e| self.error(format!("closing the consumer: {e}")))
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip() {
        let name = partition_name("fraud.alerts-v2", 11);
        assert_eq!(parse_partition(&name), Some(("fraud.alerts-v2", 11)));
        assert_eq!(parse_partition("no-partition"), None);
        assert_eq!(parse_partition("t/x"), None);
    }
}
