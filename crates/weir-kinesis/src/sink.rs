//! The Kinesis sink: PutRecords in batches within the service's limits,
//! retrying exactly the records the service refused.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use md5::{Digest as _, Md5};
use tokio::sync::OnceCell;
use tokio::time::Instant;
use weir::metrics::Metrics;
use weir::{Record, Sink, SinkError};

use crate::aws::{self, Failure, Kind};
use crate::options::{Connection, SinkOptions};
use crate::retry::{Backoff, Throttled};
use crate::shards::StreamRef;
use crate::source::endpoint_text;
use crate::{THROTTLED, THROTTLED_HELP};

/// Most records in one PutRecords call.
pub const MAX_RECORDS_PER_CALL: usize = 500;
/// Most bytes (data and partition keys) in one PutRecords call.
pub const MAX_BYTES_PER_CALL: usize = 5 << 20;
/// Most bytes of one record (data and partition key).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Longest partition key, in characters.
const MAX_KEY_CHARS: usize = 256;

/// A Kinesis stream sink (`type = "kinesis"`).
///
/// A write is acknowledged when Kinesis accepted every record. Records it
/// refuses (`FailedRecordCount`: throughput exceeded, internal failure) are
/// sent again, only they, with backoff, for up to `max_retry_time`; what is
/// still refused then is reported to the pipeline as a partial failure,
/// whose retry and failure policy takes over. Records never written in the
/// same call are kept in their order, but a refused record sent again lands
/// after later records of the same partition key.
pub struct KinesisSink {
    name: String,
    connection: Connection,
    key_field: Option<String>,
    retry_time: Duration,
    metrics: Metrics,
    client: OnceCell<(Client, String)>,
    warn: std::sync::Mutex<Throttled>,
}

/// One record ready to send, with its index in the write.
#[derive(Clone)]
struct Entry {
    index: usize,
    size: usize,
    entry: PutRecordsRequestEntry,
}

/// The partition key of `record`: the configured JSON field, else its key,
/// else a hash of its value. Keys that Kinesis would refuse (empty, over
/// 256 characters, not UTF-8) are replaced by their MD5 in hex.
fn partition_key(record: &Record, field: Option<&str>) -> String {
    let from_field = field.and_then(|f| {
        let v: serde_json::Value = serde_json::from_slice(&record.value).ok()?;
        match v.get(f)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    });
    let hex = |bytes: &[u8]| {
        Md5::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    match from_field {
        Some(k) if !k.is_empty() && k.chars().count() <= MAX_KEY_CHARS => k,
        Some(k) => hex(k.as_bytes()),
        None => match &record.key {
            Some(k) => match std::str::from_utf8(k) {
                Ok(s) if !s.is_empty() && s.chars().count() <= MAX_KEY_CHARS => s.to_string(),
                _ => hex(k),
            },
            None => hex(&record.value),
        },
    }
}

/// Splits entries into calls within the record and byte limits, in order.
fn calls(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut bytes = 0;
    for e in entries {
        let fits = out.last().is_some_and(|c| {
            c.len() < MAX_RECORDS_PER_CALL && bytes + e.size <= MAX_BYTES_PER_CALL
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += e.size;
        if let Some(c) = out.last_mut() {
            c.push(e);
        }
    }
    out
}

impl KinesisSink {
    /// A sink named `name` writing the stream of `connection`; connects on
    /// the first write.
    pub fn new(
        name: &str,
        connection: Connection,
        options: &SinkOptions,
        metrics: Metrics,
    ) -> Result<Self, String> {
        connection.check()?;
        options.check()?;
        Ok(KinesisSink {
            name: name.to_string(),
            connection,
            key_field: options.partition_key_field.clone(),
            retry_time: options.retry_time(),
            metrics,
            client: OnceCell::new(),
            warn: std::sync::Mutex::new(Throttled::new(Duration::from_secs(10))),
        })
    }

    fn stream(&self) -> StreamRef {
        StreamRef {
            name: self.connection.stream_name().to_string(),
            arn: self
                .connection
                .is_arn()
                .then(|| self.connection.stream.clone()),
        }
    }

    async fn client(&self) -> Result<&(Client, String), SinkError> {
        self.client
            .get_or_try_init(|| async {
                let sdk = aws::sdk_config(&self.connection).await;
                let Some(region) = sdk.region().map(ToString::to_string) else {
                    return Err(SinkError::new(
                        &self.name,
                        "no AWS region: set `region` in the sink, or AWS_REGION in the environment",
                    ));
                };
                let at = endpoint_text(&self.connection, Some(&region));
                Ok((aws::kinesis(&sdk, &self.connection), at))
            })
            .await
    }

    fn warn(&self, text: &str) {
        let due = self
            .warn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .due();
        if let Some(held) = due {
            let more = if held > 0 {
                format!(" ({held} more since the last warning)")
            } else {
                String::new()
            };
            tracing::warn!(sink = %self.name, stream = %self.connection.stream_name(), "{text}{more}");
        }
    }

    /// Sends one call's entries until all are accepted or the retry time
    /// is over; returns the ones that failed, with why.
    async fn put(
        &self,
        client: &Client,
        at: &str,
        mut pending: Vec<Entry>,
    ) -> Vec<(usize, String)> {
        let stream = self.stream();
        let name = stream.name.clone();
        let deadline = Instant::now() + self.retry_time;
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            let records: Vec<PutRecordsRequestEntry> =
                pending.iter().map(|e| e.entry.clone()).collect();
            let result = client
                .put_records()
                .set_stream_name(stream.name())
                .set_stream_arn(stream.arn())
                .set_records(Some(records))
                .send()
                .await;
            let (retry, last): (Vec<Entry>, Failure) = match result {
                Ok(out) if out.records().len() != pending.len() => {
                    // Which records were written cannot be told: send them
                    // all again (at least once).
                    let f = Failure {
                        kind: Kind::Other,
                        text: format!(
                            "PutRecords answered {} results for {} records",
                            out.records().len(),
                            pending.len()
                        ),
                    };
                    (pending, f)
                }
                Ok(out) => {
                    let mut retry = Vec::new();
                    let mut refused = Vec::new();
                    let mut last = None;
                    for (e, r) in pending.into_iter().zip(out.records()) {
                        let Some(code) = r.error_code() else { continue };
                        let f = Failure {
                            kind: aws::kind_of_code(code),
                            text: format!("{code}: {}", r.error_message().unwrap_or("")),
                        };
                        if f.kind == Kind::Throttled || code == "InternalFailure" {
                            retry.push(e);
                        } else {
                            refused.push((e.index, f.text.clone()));
                        }
                        last = Some(f);
                    }
                    if !refused.is_empty() {
                        // Not worth retrying here (e.g. KMS access): the
                        // pipeline's policy decides.
                        let mut failed = refused;
                        failed.extend(retry.into_iter().map(|e| {
                            (
                                e.index,
                                "not sent: other records of the call were refused".to_string(),
                            )
                        }));
                        return failed;
                    }
                    // Every record has its own result: those without an
                    // error code were written, whatever FailedRecordCount
                    // says.
                    let Some(last) = last else {
                        return Vec::new();
                    };
                    (retry, last)
                }
                Err(e) => {
                    let f = aws::failure(&e);
                    if !f.transient() {
                        let why = match f.kind {
                            Kind::NotFound => format!("stream {name} does not exist at {at} ({f})"),
                            Kind::Credentials => {
                                format!("{at} refused the credentials for stream {name}: {f}")
                            }
                            _ => format!("PutRecords to stream {name} at {at}: {f}"),
                        };
                        return pending
                            .into_iter()
                            .map(|e| (e.index, why.clone()))
                            .collect();
                    }
                    (pending, f)
                }
            };
            if last.kind == Kind::Throttled {
                self.metrics
                    .counter(
                        THROTTLED,
                        THROTTLED_HELP,
                        &[("stream", &name), ("operation", "PutRecords")],
                    )
                    .inc();
            }
            let delay = backoff.next_delay();
            if Instant::now() + delay > deadline {
                let why = format!(
                    "PutRecords to stream {name} at {at}: still failing after {:?} ({last})",
                    self.retry_time
                );
                return retry.into_iter().map(|e| (e.index, why.clone())).collect();
            }
            let what = if last.kind == Kind::Throttled {
                "throttled"
            } else {
                "failed"
            };
            self.warn(&format!(
                "PutRecords {what} for {} of its records ({last}); sending them again in {delay:?}",
                retry.len()
            ));
            tokio::time::sleep(delay).await;
            pending = retry;
        }
    }
}

#[async_trait]
impl Sink for KinesisSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        let (client, at) = self.client().await?;
        let mut failed: Vec<(usize, String)> = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            let key = partition_key(record, self.key_field.as_deref());
            let size = key.len() + record.value.len();
            if size > MAX_RECORD_BYTES {
                failed.push((
                    index,
                    format!("record at {} is {size} bytes with its partition key; Kinesis takes at most {MAX_RECORD_BYTES}", record.position),
                ));
                continue;
            }
            let entry = PutRecordsRequestEntry::builder()
                .data(Blob::new(record.value.to_vec()))
                .partition_key(key)
                .build()
                .map_err(|e| SinkError::new(&self.name, e))?;
            entries.push(Entry { index, size, entry });
        }
        for call in calls(entries) {
            failed.extend(self.put(client, at, call).await);
        }
        if failed.is_empty() {
            return Ok(());
        }
        failed.sort_by_key(|(i, _)| *i);
        let message = format!(
            "{} of {} records not written: {}",
            failed.len(),
            records.len(),
            failed[0].1
        );
        Err(SinkError::partial(
            &self.name,
            message,
            failed.into_iter().map(|(i, _)| i).collect(),
        ))
    }

    fn describe(&self) -> String {
        format!("kinesis stream {}", self.connection.stream_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir::Position;

    fn rec(key: Option<&str>, value: &str) -> Record {
        let mut r = Record::new(value.as_bytes().to_vec(), Position::Offset(0), 0);
        r.key = key.map(|k| weir::Bytes::copy_from_slice(k.as_bytes()));
        r
    }

    #[test]
    fn partition_keys_come_from_field_key_or_hash() {
        let r = rec(Some("card-1"), r#"{"vehicle_id":"v-9","n":3}"#);
        assert_eq!(partition_key(&r, Some("vehicle_id")), "v-9");
        assert_eq!(partition_key(&r, Some("n")), "3");
        assert_eq!(partition_key(&r, Some("missing")), "card-1");
        assert_eq!(partition_key(&r, None), "card-1");
        let keyless = partition_key(&rec(None, "x"), None);
        assert_eq!(keyless.len(), 32);
        assert_eq!(keyless, partition_key(&rec(None, "x"), None));
        let long = "k".repeat(300);
        assert_eq!(partition_key(&rec(Some(&long), "x"), None).len(), 32);
    }

    #[test]
    fn calls_stay_within_the_limits() {
        let entry = |index, size| Entry {
            index,
            size,
            entry: PutRecordsRequestEntry::builder()
                .data(Blob::new(Vec::new()))
                .partition_key("k")
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        };
        let many: Vec<Entry> = (0..1201).map(|i| entry(i, 10)).collect();
        let sizes: Vec<usize> = calls(many).iter().map(Vec::len).collect();
        assert_eq!(sizes, [500, 500, 201]);
        let big: Vec<Entry> = (0..6).map(|i| entry(i, 1 << 20)).collect();
        let split = calls(big);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [5, 1]);
        assert_eq!(split[1][0].index, 5);
    }
}
