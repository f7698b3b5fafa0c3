//! Routing a batch's outputs to the sinks and its failures to the failure
//! destination, retrying writes that fail.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::record::Record;
use crate::sink::{Sink, SinkError};

use super::counters::PipelineCounters;
use super::ops::Ops;
use super::retry::RetryPolicy;
use super::route::Router;
use crate::record::DeadLetter;

/// Where records go once the stages are done with them.
pub(crate) struct Delivery {
    pub(crate) pipeline: String,
    pub(crate) router: Router,
    pub(crate) sinks: BTreeMap<String, Arc<dyn Sink>>,
    pub(crate) dead_letters: (String, Arc<dyn Sink>),
    pub(crate) counters: Arc<PipelineCounters>,
    pub(crate) policy: RetryPolicy,
    /// Where dead letters are remembered for the admin API.
    pub(crate) ops: Arc<Ops>,
}

impl Delivery {
    /// Writes `records` to `sink`, retrying with backoff what was not
    /// accepted (only the failed records of a partial failure). When
    /// retries run out: the error of the last attempt, the number of
    /// attempts, and the records never accepted.
    async fn write(
        &self,
        name: &str,
        sink: &dyn Sink,
        records: &[Record],
    ) -> Result<(), (SinkError, u32, Vec<Record>)> {
        let counters = self.counters.sink(name);
        let started = std::time::Instant::now();
        let mut retries = 0;
        let mut pending: Option<Vec<Record>> = None;
        loop {
            let batch = pending.as_deref().unwrap_or(records);
            let Err(e) = sink.write(batch).await else {
                counters
                    .write_seconds
                    .observe(started.elapsed().as_secs_f64());
                return Ok(());
            };
            let not_accepted: Vec<Record> = match e.failed.as_deref() {
                Some(failed) if !failed.is_empty() => {
                    // Each record once, in order, whatever the sink reported.
                    let mut failed = failed.to_vec();
                    failed.sort_unstable();
                    failed.dedup();
                    failed
                        .iter()
                        .filter_map(|&i| batch.get(i).cloned())
                        .collect()
                }
                _ => batch.to_vec(),
            };
            if retries >= self.policy.max_retries {
                return Err((e, retries + 1, not_accepted));
            }
            retries += 1;
            let delay = self.policy.delay(retries);
            tracing::warn!(pipeline = %self.pipeline, sink = name, retry = retries, records = not_accepted.len(), delay_ms = delay.as_millis() as u64, "write failed, retrying: {e}");
            counters.retries.inc();
            tokio::time::sleep(delay).await;
            pending = Some(not_accepted);
        }
    }

    /// Routes `records` to their sinks and writes them, and writes `failed`
    /// (plus the records of any sink that kept failing) to the failure
    /// destination. Returns only when all of it was acknowledged; an error
    /// means the failure destination itself could not be written.
    pub(crate) async fn deliver(
        &self,
        origin: &str,
        partition: &str,
        records: Vec<Record>,
        mut failed: Vec<DeadLetter>,
    ) -> Result<(), SinkError> {
        let mut per_sink: BTreeMap<&str, Vec<Record>> = BTreeMap::new();
        let mut targets = Vec::new();
        for record in records {
            self.router.sinks_for(&record, &mut targets);
            if let Some((last, rest)) = targets.split_last() {
                for s in rest {
                    per_sink.entry(s).or_default().push(record.clone());
                }
                per_sink.entry(last).or_default().push(record);
            }
        }
        let writes = per_sink.iter().filter_map(|(name, records)| {
            let sink = self.sinks.get(*name)?;
            Some(async move { (*name, self.write(name, sink.as_ref(), records).await) })
        });
        for (name, result) in futures::future::join_all(writes).await {
            let sent = per_sink.get(name).map_or(0, Vec::len);
            let records = self.counters.sink(name).records;
            match result {
                Ok(()) => {
                    records.inc_by(sent as u64);
                }
                Err((error, attempts, not_accepted)) => {
                    records.inc_by(sent.saturating_sub(not_accepted.len()) as u64);
                    let records = not_accepted;
                    tracing::error!(pipeline = %self.pipeline, sink = name, records = records.len(), attempts, "write failed, sending the records to the failure destination: {error}");
                    let stage = format!("sink:{name}");
                    failed.extend(records.into_iter().map(|r| {
                        DeadLetter::new(r, origin, partition, &stage, error.to_string(), attempts)
                    }));
                }
            }
        }
        if !failed.is_empty() {
            let (name, sink) = &self.dead_letters;
            let letters: Vec<Record> = failed.iter().map(|l| sink.dead_letter(l)).collect();
            self.write(name, sink.as_ref(), &letters)
                .await
                .map_err(|(e, _, _)| e)?;
            self.counters.dead_letters.inc_by(letters.len() as u64);
            for letter in &failed {
                self.ops.dead_letter(letter);
            }
        }
        Ok(())
    }

    /// Flushes and closes every sink and the failure destination.
    pub(crate) async fn close(&self) -> Result<(), SinkError> {
        for sink in self.sinks.values() {
            sink.close().await?;
        }
        let (name, sink) = &self.dead_letters;
        if !self.sinks.contains_key(name) {
            sink.close().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::metrics::Metrics;
    use crate::record::Position;

    /// Accepts a record only on its `accept_on`-th attempt (by value).
    #[derive(Default)]
    struct Flaky {
        attempts: Mutex<BTreeMap<Vec<u8>, u32>>,
        accepted: Mutex<Vec<Vec<u8>>>,
        accept_on: BTreeMap<Vec<u8>, u32>,
    }

    #[async_trait]
    impl Sink for Flaky {
        async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
            let mut attempts = self.attempts.lock().map_err(|e| SinkError::new("t", e))?;
            let mut accepted = self.accepted.lock().map_err(|e| SinkError::new("t", e))?;
            let mut failed = Vec::new();
            for (i, r) in records.iter().enumerate() {
                let n = attempts.entry(r.value.to_vec()).or_default();
                *n += 1;
                if *n >= self.accept_on.get(&r.value[..]).copied().unwrap_or(1) {
                    accepted.push(r.value.to_vec());
                } else {
                    failed.push(i);
                }
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(SinkError::partial("flaky", "not now", failed))
            }
        }

        fn describe(&self) -> String {
            "flaky".into()
        }
    }

    #[tokio::test]
    async fn partial_failures_retry_only_the_failed_records() {
        let accept_on = [(b"b".to_vec(), 2), (b"d".to_vec(), 9)]
            .into_iter()
            .collect();
        let sink = Arc::new(Flaky {
            accept_on,
            ..Flaky::default()
        });
        let letters = Arc::new(Flaky::default());
        let delivery = Delivery {
            pipeline: "p".into(),
            router: Router::new(Vec::new(), vec!["out".into()]),
            sinks: [("out".to_string(), sink.clone() as Arc<dyn Sink>)].into(),
            dead_letters: ("dlq".into(), letters.clone()),
            counters: Arc::new(PipelineCounters::new(
                &Metrics::new(),
                "p",
                [],
                ["out", "dlq"],
            )),
            policy: RetryPolicy {
                max_retries: 2,
                backoff: Duration::from_millis(1),
                bisect: false,
            },
            ops: Arc::default(),
        };
        let records = ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, v)| Record::new(*v, Position::Offset(i as u64), 0))
            .collect();
        let done = delivery.deliver("o", "0", records, Vec::new()).await;
        done.unwrap_or_else(|e| panic!("{e}"));
        let totals = delivery.counters.totals();
        assert_eq!(totals.written.get("out"), Some(&3));
        assert_eq!(totals.failed, 1);
        // "a" and "c" were written once; "b" on its retry; "d" never.
        let accepted = sink.accepted.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(accepted, [b"a".to_vec(), b"c".to_vec(), b"b".to_vec()]);
        let attempts = sink.attempts.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(attempts.get(b"a".as_slice()), Some(&1));
        assert_eq!(attempts.get(b"d".as_slice()), Some(&3));
        let dead = letters
            .accepted
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default();
        assert_eq!(dead.len(), 1);
        assert!(String::from_utf8_lossy(&dead[0]).contains("\"stage\":\"sink:out\""));
    }
}
