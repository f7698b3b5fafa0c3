//! Reading a whole topic once, up to the end it had when reading started:
//! how `weir replay` takes dead letters back from a dead-letter topic.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::{Headers as _, Message as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use weir::{Header, Position, Record};

use crate::options::SinkOptions;

/// Every record of the topic a Kafka sink writes to (its `topic`), from the
/// beginning to the end each partition had when reading started, in
/// partition and offset order. The sink's `brokers` and `properties`
/// (security settings) are used; no consumer group is joined or committed.
pub fn read_topic(options: &SinkOptions, timeout: Duration) -> Result<Vec<Record>, String> {
    let topic = options
        .topic
        .clone()
        .ok_or("the sink names no fixed `topic` to read back")?;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", format!("weir-replay-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    for (name, value) in &options.properties {
        if let Some(text) = match value {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        } && (name.starts_with("security.")
            || name.starts_with("sasl.")
            || name.starts_with("ssl."))
        {
            config.set(name, text);
        }
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| format!("cannot create a Kafka consumer: {e}"))?;
    let metadata = consumer
        .fetch_metadata(Some(&topic), timeout)
        .map_err(|e| format!("topic `{topic}`: {e}"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(format!(
            "topic `{topic}` has no partitions (does it exist?)"
        ));
    }
    let mut ends = Vec::with_capacity(partitions.len());
    let mut assignment = TopicPartitionList::new();
    for p in partitions {
        let (low, high) = consumer
            .fetch_watermarks(&topic, p, timeout)
            .map_err(|e| format!("topic `{topic}` partition {p}: {e}"))?;
        if high > low {
            ends.push((p, high));
            assignment
                .add_partition_offset(&topic, p, Offset::Offset(low))
                .map_err(|e| e.to_string())?;
        }
    }
    let total: i64 = ends.len() as i64;
    let mut done = 0i64;
    let mut records = Vec::new();
    if total == 0 {
        return Ok(records);
    }
    consumer.assign(&assignment).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let mut finished = std::collections::BTreeSet::new();
    while done < total {
        if Instant::now() > deadline {
            return Err(format!(
                "read {} records of `{topic}` but did not reach its end within {timeout:?}",
                records.len()
            ));
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = message.map_err(|e| format!("reading `{topic}`: {e}"))?;
        let Some(&(p, high)) = ends.iter().find(|(p, _)| *p == m.partition()) else {
            continue;
        };
        if m.offset() >= high {
            if finished.insert(p) {
                done += 1;
            }
            continue;
        }
        let mut r = Record::new(
            m.payload().unwrap_or_default().to_vec(),
            Position::Offset(u64::try_from(m.offset()).unwrap_or(0)),
            m.timestamp().to_millis().unwrap_or(0),
        );
        r.key = m.key().map(weir::Bytes::copy_from_slice);
        if let Some(hs) = m.headers() {
            r.headers = hs
                .iter()
                .map(|h| Header::new(h.key, h.value.unwrap_or_default().to_vec()))
                .collect();
        }
        records.push(r);
        if m.offset() + 1 >= high && finished.insert(p) {
            done += 1;
        }
    }
    Ok(records)
}
