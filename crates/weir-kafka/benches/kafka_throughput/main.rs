//! Kafka → filter plugin → Kafka throughput, beside a plain
//! consume-and-produce passthrough with no plugin, against the same broker
//! in the same run.
//!
//! Run with `bash scripts/bench-kafka.sh` (starts the broker, builds the
//! plugins), or with a broker of your own:
//! `WEIR_KAFKA_BROKERS=host:port cargo bench -p weir-kafka --bench kafka_throughput --profile release`.
//! `WEIR_BENCH_RECORDS` changes the record count (default 1,000,000),
//! `WEIR_BENCH_ROUNDS` the number of rounds of the three jobs (default 3),
//! `WEIR_BENCH_JOBS` which of them run (`passthrough`, `plain`, `filter`,
//! comma-separated; all three by default, e.g. `filter` alone to profile it),
//! and `WEIR_BENCH_EXTRA` adds top-level lines to the weir pipelines (e.g.
//! `parallelization_factor = 4`). Each job line also shows the CPU time
//! this process used during it: the client's share of the two cores the
//! broker also runs on.
//!
//! One input topic (6 partitions) is loaded with generated card
//! transactions (~160-byte JSON values, keyed by card). Then each job reads
//! all of it as a new consumer group and writes to a new 6-partition topic;
//! its time runs from its start until the output topic holds every record
//! it should (polled every 20 ms), so both sides include joining the group
//! and waiting for delivery reports:
//!
//! - `passthrough`: an rdkafka consumer polling in a loop (with weir's
//!   `fetch.queue.backoff.ms`: librdkafka's 1 s default leaves either side
//!   idle most of each second) and an rdkafka
//!   producer (idempotent, `acks=all`, `linger.ms=5`, like weir's sink)
//!   sending each record on, no plugin, no batching, no acknowledgement
//!   tracking (offsets auto-committed as read).
//! - `weir, no stage`: `weir`'s pipeline Kafka → Kafka with no stage.
//! - `weir + filter plugin`: the same with the `amount-filter` plugin
//!   (WebAssembly) parsing every record; its threshold keeps them all, so
//!   the output volume equals the passthrough's. Its engine reads the
//!   compile cache as `weir run`'s does (the plugin is compiled into it
//!   once, before the rounds), so no job's time includes compiling.
//!
//! Then the memory job: `weir + filter plugin` once more, with its sink
//! slowed to a tenth of the rate the third job reached in the last round,
//! in a child process of its own; its peak resident memory (VmHWM) shows
//! what `max_in_flight_mb` (default 64) and librdkafka's own queues hold
//! when the sink cannot keep up. `WEIR_BENCH_SLOW=0` skips it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::{Engine, EngineConfig, Grants};
use weir_test_support::bench::cpu_time;

mod slow_sink;

type Error = Box<dyn std::error::Error + Send + Sync>;

const PARTITIONS: i32 = 6;

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{name}-{}", nanos % 1_000_000_000_000)
}

/// Records in `topic` (sum of the partitions' high watermarks).
fn count(reader: &BaseConsumer, topic: &str) -> Result<u64, Error> {
    let mut n = 0;
    for p in 0..PARTITIONS {
        let (lo, hi) = reader.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        n += (hi - lo).max(0) as u64;
    }
    Ok(n)
}

fn wait_for(
    reader: &BaseConsumer,
    topic: &str,
    n: u64,
    started: Instant,
    job: &std::thread::JoinHandle<Result<(), String>>,
) -> Result<Duration, Error> {
    loop {
        if count(reader, topic)? >= n {
            return Ok(started.elapsed());
        }
        if job.is_finished() {
            return Err(format!("the job ended before {topic} had {n} records").into());
        }
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("{topic} did not reach {n} records in 15 minutes").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plugin engine as `weir run` makes one: compiled plugins are kept in
/// the compile cache, so a job loads the filter's machine code instead of
/// compiling it in its timed part.
fn engine() -> Result<Engine, Error> {
    Ok(Engine::with_config(
        &EngineConfig::default().with_default_cache(),
    )?)
}

/// A weir pipeline from TOML text, run until `stop` is set.
async fn run_weir(
    text: String,
    dir: std::path::PathBuf,
    stop: Arc<AtomicBool>,
) -> Result<(), Error> {
    run_weir_with(text, dir, stop, weir_kafka::registry()).await
}

/// [`run_weir`] with the connectors of `registry`.
async fn run_weir_with(
    text: String,
    dir: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    registry: weir::connectors::Registry,
) -> Result<(), Error> {
    let config = PipelineConfig::from_str(&text, "bench", &dir)?;
    let engine = engine()?;
    let pipeline = Pipeline::build(&config, &engine, &registry, Metrics::new())?;
    let shutdown = async move {
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    pipeline.run(shutdown).await?;
    Ok(())
}

/// A Kafka → Kafka pipeline (with the filter plugin as its stage when
/// given) whose sink is of type `sink_type`.
fn pipeline_text(
    brokers: &str,
    input: &str,
    output: &str,
    stage: Option<&str>,
    sink_type: &str,
) -> String {
    let stage = stage.map_or(String::new(), |plugin| {
        format!(
            "[[stages]]\nname = \"filter\"\nplugin = \"{plugin}\"\nsettings = {{ min_amount = 0.0 }}\n"
        )
    });
    let extra = std::env::var("WEIR_BENCH_EXTRA")
        .unwrap_or_default()
        .replace("\\n", "\n");
    format!(
        r#"name = "bench"
{extra}
[source]
type = "kafka"
brokers = "{brokers}"
topics = ["{input}"]
group = "{}"
start = "earliest"

[batch]
max_records = 1000
max_wait_ms = 20

{stage}
[sinks.out]
type = "{sink_type}"
brokers = "{brokers}"
topic = "{output}"
"#,
        unique("group")
    )
}

/// The passthrough: poll, send, repeat, until `stop`.
fn passthrough(brokers: &str, input: &str, output: &str, stop: &AtomicBool) -> Result<(), Error> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("passthrough"))
        .set("auto.offset.reset", "earliest")
        .set("fetch.queue.backoff.ms", weir_kafka::FETCH_QUEUE_BACKOFF_MS)
        .create()?;
    consumer.subscribe(&[input])?;
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create()?;
    while !stop.load(Ordering::Relaxed) {
        let Some(m) = consumer.poll(Duration::from_millis(50)) else {
            continue;
        };
        let m = m?;
        let mut record =
            BaseRecord::<[u8], [u8]>::to(output).payload(m.payload().unwrap_or_default());
        if let Some(k) = m.key() {
            record = record.key(k);
        }
        if let Some(ts) = m.timestamp().to_millis() {
            record = record.timestamp(ts);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }
    producer.flush(Duration::from_secs(30))?;
    Ok(())
}

struct Outcome {
    name: &'static str,
    elapsed: Duration,
    records: u64,
    /// CPU time of this process (user + system) during the job.
    cpu: Duration,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run this.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let brokers = std::env::var("WEIR_KAFKA_BROKERS").map_err(|_| {
        "WEIR_KAFKA_BROKERS is not set: run `bash scripts/bench-kafka.sh`, which starts a broker"
    })?;
    let records: u64 = std::env::var("WEIR_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let filter = weir_test_support::plugin("amount_filter")
        .display()
        .to_string();
    if std::env::var_os(slow_sink::INPUT).is_some() {
        return slow_sink::child(&brokers, &filter);
    }
    let dir = std::env::temp_dir().join(unique("dir"));
    std::fs::create_dir_all(&dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reader = reader(&brokers)?;

    let input = unique("in");
    rt.block_on(weir_kafka::ensure_topic(&brokers, &input, PARTITIONS, None))?;
    println!("loading {records} transactions into {input} ({PARTITIONS} partitions)");
    let load = format!(
        "name = \"load\"\ndata_dir = \"load-data\"\n[source]\ntype = \"generator\"\nworkload = \"transactions\"\ncount = {records}\nseed = 5\n\
         [batch]\nmax_records = 2000\nmax_wait_ms = 20\n[sinks.out]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopic = \"{input}\"\n"
    );
    let started = Instant::now();
    rt.block_on(run_weir(
        load,
        dir.clone(),
        Arc::new(AtomicBool::new(false)),
    ))?;
    let loaded = count(&reader, &input)?;
    println!(
        "  loaded {loaded} in {:.2} s ({:.0} records/s, weir generator → Kafka sink)",
        started.elapsed().as_secs_f64(),
        loaded as f64 / started.elapsed().as_secs_f64()
    );

    // The filter keeps every transaction with an amount above 0: all of them.
    let mut g = weir::connectors::generator::generator(
        weir::connectors::generator::Workload::Transactions,
        5,
    );
    let mut kept = 0u64;
    for _ in 0..records {
        if weir_test_support::native::amount_keep(&g.next_record().value, 0.0)? {
            kept += 1;
        }
    }
    println!("  the filter keeps {kept} of {records}");

    // Compiled once here, into the cache every job's engine reads.
    engine()?.load_file(std::path::Path::new(&filter), Grants::default())?;

    let rounds: usize = std::env::var("WEIR_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut last_filter_rate = None;
    for round in 1..=rounds {
        println!("round {round} of {rounds}");
        let outcomes = round_of_jobs(&rt, &reader, &brokers, &input, &filter, &dir, loaded, kept)?;
        last_filter_rate = outcomes
            .iter()
            .find(|o| o.name == "weir + filter plugin")
            .map(Outcome::rate);
        if let [base, plain, filtered] = &outcomes[..] {
            println!(
                "  weir + filter plugin / passthrough: {:.0}%   weir, no stage / passthrough: {:.0}%",
                100.0 * filtered.rate() / base.rate(),
                100.0 * plain.rate() / base.rate()
            );
        }
    }
    if let (Some(rate), false) = (
        last_filter_rate,
        std::env::var("WEIR_BENCH_SLOW").is_ok_and(|v| v == "0"),
    ) {
        memory_job(&brokers, &input, rate / 10.0, kept)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The memory job, in a child process: see the module docs.
fn memory_job(brokers: &str, input: &str, rate: f64, kept: u64) -> Result<(), Error> {
    println!("memory job: weir + filter plugin, sink slowed to {rate:.0} records/s");
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("--bench")
        .env("WEIR_KAFKA_BROKERS", brokers)
        .env(slow_sink::INPUT, input)
        .env(slow_sink::RATE, rate.to_string())
        .env(slow_sink::EXPECT, kept.to_string());
    let measured = weir_test_support::process::run_measured(&mut cmd, Duration::from_secs(1800))
        .map_err(|e| e.to_string())?;
    print!("  {}", measured.stdout);
    if measured.status.is_none_or(|s| !s.success()) {
        return Err(format!("the memory job failed: {}", measured.stderr).into());
    }
    println!(
        "  peak resident memory of the job's process: {:.0} MiB",
        measured.peak_rss_kib as f64 / 1024.0
    );
    Ok(())
}

/// A consumer for reading watermarks.
fn reader(brokers: &str) -> Result<BaseConsumer, Error> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .create()?)
}

/// The three jobs, one after the other, over the whole input topic.
#[allow(clippy::too_many_arguments)]
fn round_of_jobs(
    rt: &tokio::runtime::Runtime,
    reader: &BaseConsumer,
    brokers: &str,
    input: &str,
    filter: &str,
    dir: &std::path::Path,
    loaded: u64,
    kept: u64,
) -> Result<Vec<Outcome>, Error> {
    let (brokers, input, dir) = (brokers.to_string(), input.to_string(), dir.to_path_buf());
    let mut outcomes = Vec::new();
    let chosen = std::env::var("WEIR_BENCH_JOBS").ok();
    for (short, name) in [
        ("passthrough", "passthrough"),
        ("plain", "weir, no stage"),
        ("filter", "weir + filter plugin"),
    ] {
        if chosen
            .as_deref()
            .is_some_and(|c| !c.split(',').any(|j| j.trim() == short))
        {
            continue;
        }
        let output = unique("out");
        rt.block_on(weir_kafka::ensure_topic(
            &brokers, &output, PARTITIONS, None,
        ))?;
        let stop = Arc::new(AtomicBool::new(false));
        let cpu_before = cpu_time();
        let started = Instant::now();
        let job: std::thread::JoinHandle<Result<(), String>> = match name {
            "passthrough" => {
                let (b, i, o, s) = (brokers.clone(), input.clone(), output.clone(), stop.clone());
                std::thread::spawn(move || passthrough(&b, &i, &o, &s).map_err(|e| e.to_string()))
            }
            _ => {
                let stage = (name == "weir + filter plugin").then_some(filter);
                let text = pipeline_text(&brokers, &input, &output, stage, "kafka");
                let (d, s, handle) = (dir.clone(), stop.clone(), rt.handle().clone());
                std::thread::spawn(move || {
                    handle
                        .block_on(run_weir(text, d, s))
                        .map_err(|e| e.to_string())
                })
            }
        };
        let expected = if name == "weir + filter plugin" {
            kept
        } else {
            loaded
        };
        let elapsed = wait_for(reader, &output, expected, started, &job);
        stop.store(true, Ordering::Relaxed);
        job.join().map_err(|_| "the job panicked")??;
        // Rates count records read, so a filter that dropped some would
        // not look faster for writing less.
        let outcome = Outcome {
            name,
            elapsed: elapsed?,
            records: loaded,
            cpu: cpu_time().saturating_sub(cpu_before),
        };
        println!(
            "  {:<22} {:>7.2} s  {:>9.0} records/s  client CPU {:.2} s",
            outcome.name,
            outcome.elapsed.as_secs_f64(),
            outcome.rate(),
            outcome.cpu.as_secs_f64()
        );
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
