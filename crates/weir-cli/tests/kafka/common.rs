//! What the Kafka tests share: the broker, topics, running `weir`, reading
//! topics back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub use weir_test_support::process::{Error, TestResult, Weir, serial, unique, write_config};

/// The broker the test command started (`scripts/kafka.sh start`).
pub fn brokers() -> String {
    std::env::var("WEIR_KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!(
            "WEIR_KAFKA_BROKERS is not set: these tests need a real Kafka broker. \
             Run the whole suite with `bash scripts/test.sh`, or start one with \
             `eval \"export $(bash scripts/kafka.sh start)\"`"
        )
    })
}

/// Creates `topic` with `partitions` partitions.
pub fn create_topic(topic: &str, partitions: i32) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(weir_kafka::ensure_topic(
        &brokers(),
        topic,
        partitions,
        None,
    ))?;
    Ok(())
}

/// `weir produce --brokers … --topic topic` with `args`.
pub fn weir_produce(topic: &str, args: &[&OsStr]) -> TestResult {
    let out = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "produce",
            "--log",
            "warn",
            "--brokers",
            &brokers(),
            "--topic",
            topic,
        ])
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "weir produce failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// `weir produce`: `count` generated transactions (seeded) into `topic`.
pub fn produce_transactions(topic: &str, count: u64, seed: u64) -> TestResult {
    let (count, seed) = (count.to_string(), seed.to_string());
    let args = [
        "--workload",
        "transactions",
        "--count",
        &count,
        "--seed",
        &seed,
    ];
    weir_produce(topic, &args.map(OsStr::new))
}

/// Counts the ids seen more than once in `ids` (output order), checking
/// that each repeat is a record its group had not committed: at or past
/// `committed` in its partition (`position` maps ids to their input
/// partition and offset).
pub fn repeats_past_committed(
    ids: impl IntoIterator<Item = u64>,
    position: &BTreeMap<u64, (i32, i64)>,
    committed: &HashMap<i32, i64>,
) -> Result<u64, Error> {
    let mut seen = BTreeSet::new();
    let mut repeats = 0;
    for id in ids {
        if !seen.insert(id) {
            repeats += 1;
            let (p, o) = position.get(&id).copied().ok_or("unknown id")?;
            let c = committed.get(&p).copied().unwrap_or(0);
            assert!(
                o >= c,
                "id {id} (partition {p} offset {o}) was committed at {c} yet repeated"
            );
        }
    }
    Ok(repeats)
}

/// A producer for records the generator cannot make (headers, poison).
pub fn producer() -> Result<ThreadedProducer<DefaultProducerContext>, Error> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .create()?)
}

/// Sends and waits for delivery.
pub fn send_all(
    producer: &ThreadedProducer<DefaultProducerContext>,
    records: Vec<BaseRecord<'_, [u8], [u8]>>,
) -> TestResult {
    for r in records {
        producer.send(r).map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    Ok(())
}

/// A record read back from a topic.
#[derive(Debug, Clone)]
pub struct Msg {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Msg {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.value).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The generator's sequence number (`t-00000042` is 42).
    pub fn txn(&self) -> Option<u64> {
        self.json()["txn_id"]
            .as_str()?
            .strip_prefix("t-")?
            .parse()
            .ok()
    }
}

fn reader() -> Result<BaseConsumer, Error> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .create()?)
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Result<Vec<i32>, Error> {
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let t = md.topics().first().ok_or("no metadata")?;
    Ok(t.partitions().iter().map(|p| p.id()).collect())
}

/// Low and high watermarks per partition.
fn watermarks(topic: &str) -> Result<HashMap<i32, (i64, i64)>, Error> {
    let c = reader()?;
    let mut out = HashMap::new();
    for p in partitions(&c, topic)? {
        out.insert(p, c.fetch_watermarks(topic, p, Duration::from_secs(10))?);
    }
    Ok(out)
}

/// Records in `topic` (high watermark minus low, summed).
pub fn count(topic: &str) -> Result<u64, Error> {
    Ok(watermarks(topic)?
        .values()
        .map(|(lo, hi)| (hi - lo).max(0) as u64)
        .sum())
}

/// High watermarks per partition.
pub fn ends(topic: &str) -> Result<HashMap<i32, i64>, Error> {
    Ok(watermarks(topic)?
        .into_iter()
        .map(|(p, (_, hi))| (p, hi))
        .collect())
}

/// Every record of `topic`, per partition in offset order.
pub fn read_all(topic: &str) -> Result<Vec<Msg>, Error> {
    let c = reader()?;
    let ends = ends(topic)?;
    let mut tpl = TopicPartitionList::new();
    for p in ends.keys() {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)?;
    }
    c.assign(&tpl)?;
    let total: i64 = ends.values().sum();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while (out.len() as i64) < total {
        if Instant::now() > deadline {
            return Err(format!("read {} of {total} records of {topic}", out.len()).into());
        }
        let Some(m) = c.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m?;
        out.push(Msg {
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().unwrap_or_default().to_vec(),
            headers: m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    out.sort_by_key(|m| (m.partition, m.offset));
    Ok(out)
}

/// The group's committed offsets of `topic` (partitions without one are
/// left out).
pub fn committed(group: &str, topic: &str) -> Result<HashMap<i32, i64>, Error> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in partitions(&c, topic)? {
        tpl.add_partition(topic, p);
    }
    let got = c.committed_offsets(tpl, Duration::from_secs(10))?;
    Ok(got
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect())
}

/// Waits until `topic` holds at least `n` records, while every process
/// in `running` stays up.
pub fn wait_for_count(
    topic: &str,
    n: u64,
    limit: Duration,
    running: &mut [&mut Weir],
) -> TestResult {
    let deadline = Instant::now() + limit;
    loop {
        let have = count(topic)?;
        if have >= n {
            return Ok(());
        }
        for w in running.iter_mut() {
            w.check_running()?;
        }
        if Instant::now() > deadline {
            return Err(format!("{topic} has {have} of {n} records after {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The Kafka source table for `topic` and `group`, with quick group
/// membership changes.
pub fn source(topic: &str, group: &str) -> String {
    format!(
        r#"[source]
type = "kafka"
brokers = "{}"
topics = ["{topic}"]
group = "{group}"
start = "earliest"
commit_interval = "500ms"
properties = {{ "session.timeout.ms" = 6000, "heartbeat.interval.ms" = 500 }}
"#,
        brokers()
    )
}

/// A Kafka sink table named `name` writing `topic`.
pub fn sink(name: &str, topic: &str) -> String {
    format!(
        "[sinks.{name}]\ntype = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{topic}\"\n",
        brokers()
    )
}

/// The path of a test plugin, as TOML text.
pub fn plugin(name: &str) -> String {
    weir_test_support::plugin(name).display().to_string()
}
