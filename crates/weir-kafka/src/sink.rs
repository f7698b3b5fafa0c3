//! The Kafka sink: an idempotent producer (`acks=all`) whose writes return
//! once every record's delivery report came back.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use weir::DeadLetter;
use weir::metrics::Metrics;
use weir::{Record, Sink, SinkError};

use crate::context::WeirContext;
use crate::delivery::MAX_WRITE;
use crate::options::SinkOptions;

/// A Kafka producer sink (`type = "kafka"`).
pub struct KafkaSink {
    name: String,
    description: String,
    /// librdkafka's own thread serves delivery reports.
    producer: Arc<ThreadedProducer<WeirContext>>,
    topic: Option<String>,
    topic_field: Option<String>,
    /// Writes enqueue their records one after another, so records of one
    /// key keep their order even when a full queue makes a write wait.
    order: tokio::sync::Mutex<()>,
}
impl KafkaSink {
    /// A sink named `name` in its pipeline, for `options`.
    pub fn new(name: &str, options: &SinkOptions, metrics: Metrics) -> Result<Self, String> {
        let config = options.client_config()?;
        let description = match (&options.topic, &options.topic_field) {
            (Some(t), None) => format!("kafka topic {t}"),
            (Some(t), Some(f)) => format!("kafka topic from field `{f}`, else {t}"),
            (None, f) => format!("kafka topic from field `{}`", f.as_deref().unwrap_or("")),
        };
        let context = WeirContext::new(
            format!("sink `{name}` ({description})"),
            options.brokers.clone(),
            metrics,
            None,
        );
        let producer = config
            .create_with_context(context)
            .map_err(|e| format!("creating the producer: {e}"))?;
        let producer = Arc::new(producer);
        Ok(KafkaSink {
            name: name.to_string(),
            description,
            producer,
            topic: options.topic.clone(),
            topic_field: options.topic_field.clone(),
            order: tokio::sync::Mutex::new(()),
        })
    }

    /// The topic of `record`: its `topic_field`, else the fixed topic.
    fn topic_of(&self, record: &Record) -> Result<Cow<'_, str>, String> {
        if let Some(field) = &self.topic_field {
            let found = serde_json::from_slice::<serde_json::Value>(&record.value)
                .ok()
                .and_then(|v| v.get(field)?.as_str().map(str::to_string));
            if let Some(topic) = found {
                crate::options::check_topic_name(&topic)?;
                return Ok(Cow::Owned(topic));
            }
        }
        self.topic
            .as_deref()
            .map(Cow::Borrowed)
            .ok_or_else(|| match &self.topic_field {
                Some(f) => format!("the record has no string field `{f}` naming its topic"),
                None => "no topic".to_string(),
            })
    }
}

fn headers(record: &Record) -> Option<OwnedHeaders> {
    if record.headers.is_empty() {
        return None;
    }
    let mut out = OwnedHeaders::new_with_capacity(record.headers.len());
    for h in &record.headers {
        out = out.insert(KafkaHeader {
            key: &h.name,
            value: Some(&h.value[..]),
        });
    }
    Some(out)
}

#[async_trait]
impl Sink for KafkaSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        if records.len() > MAX_WRITE {
            return Err(SinkError::new(
                &self.name,
                format!(
                    "a write of {} records: at most {MAX_WRITE} at once",
                    records.len()
                ),
            ));
        }
        let write = self.producer.context().writes.register(records.len());
        let tracker = &write.tracker;
        let turn = self.order.lock().await;
        for (i, r) in records.iter().enumerate() {
            let topic = match self.topic_of(r) {
                Ok(t) => t,
                Err(e) => {
                    tracker.settle(i, Some(e));
                    continue;
                }
            };
            let mut out = BaseRecord::with_opaque_to(&topic, write.number(i))
                .payload(&r.value[..])
                .timestamp(r.timestamp_ms);
            if let Some(k) = &r.key {
                out = out.key(&k[..]);
            }
            if let Some(h) = headers(r) {
                out = out.headers(h);
            }
            loop {
                match self.producer.send(out) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // The producer's queue is full: wait for deliveries.
                        out = back;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err((e, _)) => {
                        // Never enqueued, so no delivery report will come.
                        tracker.settle(i, Some(e.to_string()));
                        break;
                    }
                }
            }
        }
        drop(turn);
        let failed = tracker.finished().await;
        let Some((_, first)) = failed.first() else {
            return Ok(());
        };
        Err(SinkError::partial(
            &self.name,
            format!(
                "{} of {} records not delivered to {}: {first}",
                failed.len(),
                records.len(),
                self.description
            ),
            failed.into_iter().map(|(i, _)| i).collect(),
        ))
    }

    /// Dead letters keep the original key, value and headers; the error
    /// context goes in `weir.*` headers.
    fn dead_letter(&self, letter: &DeadLetter) -> Record {
        letter.to_original()
    }

    async fn close(&self) -> Result<(), SinkError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(30)))
            .await
            .map_err(|e| SinkError::new(&self.name, e))?
            .map_err(|e| SinkError::new(&self.name, format!("flushing the producer: {e}")))
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
