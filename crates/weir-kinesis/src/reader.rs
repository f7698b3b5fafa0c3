//! One shard's reader: GetRecords in a loop, within the per-shard limits,
//! backing off on throttling, until the shard ends or the lease is lost.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use tokio::sync::{Notify, mpsc};
use weir::metrics::Metrics;
use weir::{Bytes, Record};

use crate::aws::{Failure, Kind, failure};
use crate::kpl;
use crate::leases::Checkpoint;
use crate::options::SourceSettings;
use crate::progress::Progress;
use crate::retry::{Backoff, Throttled};
use crate::sequence::SeqKey;
use crate::shards::StreamRef;
use crate::{ITERATOR_AGE, ITERATOR_AGE_HELP, THROTTLED, THROTTLED_HELP};

/// Records read from a shard, for the source to batch.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) shard: Arc<str>,
    pub(crate) generation: u64,
    pub(crate) records: Vec<Record>,
}

/// What the coordinator tells the source.
#[derive(Debug)]
pub(crate) enum Control {
    /// The lease of this shard was lost: drop its records not yet batched.
    Lost(String),
    /// Reading cannot go on.
    Fatal(String),
}

/// What every reader of a source shares.
pub(crate) struct ReaderContext {
    pub(crate) client: Client,
    pub(crate) stream: StreamRef,
    /// `stream X at endpoint`, for messages.
    pub(crate) described: String,
    pub(crate) settings: SourceSettings,
    pub(crate) start_ms: Option<i64>,
    pub(crate) metrics: Metrics,
    pub(crate) progress: Arc<Progress>,
    pub(crate) deliveries: mpsc::Sender<Delivery>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Wakes the coordinator (a shard ended).
    pub(crate) wake: Arc<Notify>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The records of one GetRecords answer, de-aggregated, without those at or
/// below `skip`.
fn convert(records: &[aws_sdk_kinesis::types::Record], skip: Option<&SeqKey>) -> Vec<Record> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let seq = r.sequence_number();
        let timestamp_ms = r
            .approximate_arrival_timestamp()
            .and_then(|t| t.to_millis().ok())
            .unwrap_or_else(now_ms);
        let data = r.data().as_ref();
        // The SDK owns the answer: a plain record's data is copied once,
        // here; de-aggregated records take their decoded bytes as they are.
        let parts: Vec<(SeqKey, Vec<u8>, Bytes)> = match kpl::deaggregate(data) {
            Some(users) => users
                .into_iter()
                .enumerate()
                .map(|(i, u)| {
                    (
                        SeqKey::sub(seq, i as u64),
                        u.partition_key.into_bytes(),
                        Bytes::from(u.data),
                    )
                })
                .collect(),
            None => vec![(
                SeqKey::plain(seq),
                r.partition_key().unwrap_or_default().as_bytes().to_vec(),
                Bytes::copy_from_slice(data),
            )],
        };
        for (key, partition_key, value) in parts {
            if skip.is_some_and(|s| key <= *s) {
                continue;
            }
            out.push(Record {
                key: Some(Bytes::from(partition_key)),
                value,
                headers: Vec::new(),
                timestamp_ms,
                position: key.position(),
                score: None,
                labels: Vec::new(),
            });
        }
    }
    out
}

struct Reader {
    ctx: Arc<ReaderContext>,
    shard: Arc<str>,
    generation: u64,
    /// Where reading started (for a new iterator before anything was read).
    from: Checkpoint,
    /// The last record handed over.
    last: Option<SeqKey>,
    backoff: Backoff,
    warn: Throttled,
}

/// Reads `shard` from `from` until its end, handing records to the source.
/// Stops by itself at the shard's end or when the source is gone; the
/// coordinator aborts it when the lease is lost.
pub(crate) async fn read_shard(
    ctx: Arc<ReaderContext>,
    shard: String,
    generation: u64,
    from: Checkpoint,
) {
    let mut reader = Reader {
        shard: shard.into(),
        generation,
        from,
        last: None,
        backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
        warn: Throttled::new(Duration::from_secs(10)),
        ctx,
    };
    if let Err(message) = reader.run().await {
        let _ = reader.ctx.control.send(Control::Fatal(message));
    }
}

impl Reader {
    fn labels(&self) -> [(&str, &str); 2] {
        [
            ("stream", self.ctx.stream.name.as_str()),
            ("shard", &self.shard),
        ]
    }

    async fn run(&mut self) -> Result<(), String> {
        let Some(mut iterator) = self.iterator().await? else {
            return Ok(());
        };
        let skip = match &self.from {
            Checkpoint::At(k) => Some(k.clone()),
            _ => None,
        };
        loop {
            let call = self
                .ctx
                .client
                .get_records()
                .shard_iterator(&iterator)
                .limit(self.ctx.settings.max_records)
                .set_stream_arn(self.ctx.stream.arn());
            let out = match call.send().await {
                Ok(out) => out,
                Err(e) => {
                    let f = failure(&e);
                    // An iterator refused again and again (Kinesis says
                    // InvalidArgumentException) is replaced like an
                    // expired one.
                    let refused = f.kind == Kind::Other && self.backoff.attempts() >= 3;
                    if f.kind == Kind::ExpiredIterator || refused {
                        tracing::info!(shard = %self.shard, "shard iterator expired or refused ({f}); getting a new one");
                        match self.iterator().await? {
                            Some(it) => iterator = it,
                            None => return Ok(()),
                        }
                    } else {
                        self.wait_out("GetRecords", &f).await?;
                    }
                    continue;
                }
            };
            self.backoff.reset();
            if let Some(ms) = out.millis_behind_latest() {
                let labels = self.labels();
                self.ctx
                    .metrics
                    .gauge(ITERATOR_AGE, ITERATOR_AGE_HELP, &labels)
                    .set(ms as f64);
            }
            let skip_below = skip.as_ref().filter(|_| self.last.is_none());
            let records = convert(out.records(), skip_below);
            let got = !records.is_empty();
            if let Some(last) = records
                .last()
                .and_then(|r| SeqKey::from_position(&r.position))
            {
                if !self.ctx.progress.read(&self.shard, self.generation, &last) {
                    return Ok(()); // the lease moved on
                }
                self.last = Some(last);
                let delivery = Delivery {
                    shard: self.shard.clone(),
                    generation: self.generation,
                    records,
                };
                if self.ctx.deliveries.send(delivery).await.is_err() {
                    return Ok(()); // the source is gone
                }
            } else if !out.records().is_empty() {
                // Everything was at or below the checkpoint: continue after it.
                if let Some(r) = out.records().last() {
                    self.last = Some(SeqKey::plain(r.sequence_number()));
                }
            }
            match out.next_shard_iterator() {
                Some(next) if !next.is_empty() => iterator = next.to_string(),
                _ => {
                    tracing::info!(stream = %self.ctx.stream.name, shard = %self.shard, "reached the end of the closed shard");
                    self.ctx.progress.end(&self.shard, self.generation);
                    self.ctx.wake.notify_one();
                    return Ok(());
                }
            }
            let pause = if got {
                self.ctx.settings.poll_interval
            } else {
                self.ctx.settings.idle_interval
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// A new iterator: after the last record handed over, else where reading
    /// started. `None` if the shard is finished.
    async fn iterator(&mut self) -> Result<Option<String>, String> {
        loop {
            let mut req = self
                .ctx
                .client
                .get_shard_iterator()
                .set_stream_name(self.ctx.stream.name())
                .set_stream_arn(self.ctx.stream.arn())
                .shard_id(self.shard.as_ref());
            req = match (&self.last, &self.from) {
                (Some(last), _) => req
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .starting_sequence_number(last.seq.as_ref()),
                (None, Checkpoint::At(k)) => req
                    .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                    .starting_sequence_number(k.seq.as_ref()),
                (None, Checkpoint::TrimHorizon) => {
                    req.shard_iterator_type(ShardIteratorType::TrimHorizon)
                }
                (None, Checkpoint::Latest) => req.shard_iterator_type(ShardIteratorType::Latest),
                (None, Checkpoint::AtTimestamp) => req
                    .shard_iterator_type(ShardIteratorType::AtTimestamp)
                    .timestamp(DateTime::from_millis(self.ctx.start_ms.unwrap_or(0))),
                (None, Checkpoint::ShardEnd) => return Ok(None),
            };
            match req.send().await {
                Ok(out) => {
                    self.backoff.reset();
                    return match out.shard_iterator() {
                        Some(it) => Ok(Some(it.to_string())),
                        None => {
                            self.ctx.progress.end(&self.shard, self.generation);
                            self.ctx.wake.notify_one();
                            Ok(None)
                        }
                    };
                }
                Err(e) => self.wait_out("GetShardIterator", &failure(&e)).await?,
            }
        }
    }

    /// Backs off after a failed call, or gives up if retrying cannot help.
    async fn wait_out(&mut self, operation: &str, f: &Failure) -> Result<(), String> {
        match f.kind {
            Kind::NotFound | Kind::Credentials | Kind::NoCredentials => {
                return Err(format!(
                    "{operation} on shard {} of {}: {f}",
                    self.shard, self.ctx.described
                ));
            }
            Kind::Throttled => {
                self.ctx
                    .metrics
                    .counter(
                        THROTTLED,
                        THROTTLED_HELP,
                        &[("stream", &self.ctx.stream.name), ("operation", operation)],
                    )
                    .inc();
            }
            _ => {}
        }
        let delay = self.backoff.next_delay();
        if let Some(held) = self.warn.due() {
            let what = if f.kind == Kind::Throttled {
                "throttled"
            } else {
                "failed"
            };
            tracing::warn!(
                stream = %self.ctx.stream.name,
                shard = %self.shard,
                "{operation} {what} ({f}); backing off {delay:?}{}",
                if held > 0 { format!(" ({held} more since the last warning)") } else { String::new() }
            );
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesis::primitives::Blob;

    fn kinesis_record(seq: &str, data: Vec<u8>) -> aws_sdk_kinesis::types::Record {
        aws_sdk_kinesis::types::Record::builder()
            .sequence_number(seq)
            .partition_key("pk")
            .data(Blob::new(data))
            .approximate_arrival_timestamp(DateTime::from_millis(1_000))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn aggregated_records_become_user_records_after_the_checkpoint() {
        let users = vec![
            kpl::UserRecord {
                partition_key: "a".into(),
                data: b"one".to_vec(),
            },
            kpl::UserRecord {
                partition_key: "b".into(),
                data: b"two".to_vec(),
            },
        ];
        let records = vec![
            kinesis_record("100", b"plain".to_vec()),
            kinesis_record("200", kpl::aggregate(&users)),
        ];
        let all = convert(&records, None);
        let positions: Vec<String> = all.iter().map(|r| r.position.to_string()).collect();
        assert_eq!(positions, ["100", "200:0", "200:1"]);
        assert_eq!(all[2].key.as_deref(), Some(&b"b"[..]));
        assert_eq!(all[2].value, &b"two"[..]);
        assert_eq!(all[0].timestamp_ms, 1_000);
        let after = convert(&records, Some(&SeqKey::sub("200", 0)));
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].value, &b"two"[..]);
    }
}
