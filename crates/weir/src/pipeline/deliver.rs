//! Routing a batch's outputs to the sinks and its failures to the failure
//! destination, retrying writes that fail.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::metrics::{Metrics, names};
use crate::record::Record;
use crate::sink::{Sink, SinkError};

use super::dead_letter::DeadLetter;
use super::retry::RetryPolicy;
use super::route::Router;

/// Where records go once the stages are done with them.
pub(crate) struct Delivery {
    pub(crate) pipeline: String,
    pub(crate) router: Router,
    pub(crate) sinks: BTreeMap<String, Arc<dyn Sink>>,
    pub(crate) dead_letters: (String, Arc<dyn Sink>),
    pub(crate) metrics: Metrics,
    pub(crate) policy: RetryPolicy,
}

/// What one delivery wrote.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    pub(crate) written: BTreeMap<String, u64>,
    pub(crate) failed: u64,
}

impl Delivery {
    /// Writes `sink`, retrying failures with backoff; the error of the last
    /// attempt and the number of attempts when all failed.
    async fn write(
        &self,
        name: &str,
        sink: &dyn Sink,
        records: &[Record],
    ) -> Result<(), (SinkError, u32)> {
        let mut retries = 0;
        loop {
            match sink.write(records).await {
                Ok(()) => return Ok(()),
                Err(e) if retries < self.policy.max_retries => {
                    retries += 1;
                    let delay = self.policy.delay(retries);
                    tracing::warn!(pipeline = %self.pipeline, sink = name, retry = retries, delay_ms = delay.as_millis() as u64, "write failed, retrying: {e}");
                    self.metrics
                        .counter_add(names::SINK_RETRIES, &[("sink", name)], 1);
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err((e, retries + 1)),
            }
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
    ) -> Result<Delivered, SinkError> {
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
        let mut delivered = Delivered::default();
        for (name, result) in futures::future::join_all(writes).await {
            let records = per_sink.get(name).map_or(&[][..], Vec::as_slice);
            match result {
                Ok(()) => {
                    let n = records.len() as u64;
                    *delivered.written.entry(name.to_string()).or_default() += n;
                    self.metrics
                        .counter_add(names::SINK_RECORDS, &[("sink", name)], n);
                }
                Err((error, attempts)) => {
                    tracing::error!(pipeline = %self.pipeline, sink = name, records = records.len(), attempts, "write failed, sending the records to the failure destination: {error}");
                    let stage = format!("sink:{name}");
                    failed.extend(records.iter().map(|r| {
                        DeadLetter::outside(
                            r.clone(),
                            origin,
                            partition,
                            &stage,
                            error.to_string(),
                            attempts,
                        )
                    }));
                }
            }
        }
        if !failed.is_empty() {
            let letters: Vec<Record> = failed.iter().map(DeadLetter::to_record).collect();
            let (name, sink) = &self.dead_letters;
            self.write(name, sink.as_ref(), &letters)
                .await
                .map_err(|(e, _)| e)?;
            delivered.failed = letters.len() as u64;
            self.metrics.counter_add(
                names::DEAD_LETTERS,
                &[("pipeline", self.pipeline.as_str())],
                delivered.failed,
            );
        }
        Ok(delivered)
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
