//! Reading a Kinesis stream: weir's source (through a pipeline with no
//! stage, and with a plugin stage) beside a bare GetRecords loop, against
//! the same emulator in the same run.
//!
//! Run with `bash scripts/bench-kinesis.sh` (starts the emulators, builds
//! the plugins), or with an endpoint of your own:
//! `WEIR_KINESIS_ENDPOINT=http://127.0.0.1:14567 cargo bench -p weir-kinesis --bench kinesis_read --profile release`.
//! `WEIR_BENCH_RECORDS` changes the record count (default 200,000) and
//! `WEIR_BENCH_ROUNDS` the rounds (default 2).
//!
//! A 4-shard stream is loaded with generated vehicle readings (~170-byte
//! JSON), packed 500 to a KPL aggregate so that loading is quick. Each job
//! reads the whole stream from its beginning and counts the user records:
//!
//! - `GetRecords loop`: one task per shard calling GetRecords (10,000
//!   records per call) back to back and de-aggregating, no batching, no
//!   checkpoints.
//! - `weir, no stage`: a pipeline with the Kinesis source (no pause between
//!   calls) writing to a file sink (flushed and synced per batch),
//!   checkpoints included.
//! - `weir + plugin`: the same with the `test-passthrough` plugin
//!   (WebAssembly) called on every record.
//!
//! Each job line also shows this process's CPU time during the job (the
//! emulator runs on the same two cores).

use std::time::{Duration, Instant};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::Engine;
use weir_kinesis::kpl::{UserRecord, aggregate, deaggregate};
use weir_test_support::bench::cpu_time;

type Error = Box<dyn std::error::Error + Send + Sync>;

const SHARDS: i32 = 4;
const PER_AGGREGATE: usize = 500;

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{name}-{}", nanos % 1_000_000_000_000)
}

async fn client(endpoint: &str) -> Client {
    let creds = aws_sdk_kinesis::config::Credentials::new("bench", "bench", None, None, "bench");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(weir_kinesis::https_client())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .load()
        .await;
    Client::from_conf(
        aws_sdk_kinesis::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    )
}

/// Creates the stream and loads `records` readings, aggregated.
async fn load(client: &Client, stream: &str, records: u64) -> Result<(), Error> {
    client
        .create_stream()
        .stream_name(stream)
        .shard_count(SHARDS)
        .send()
        .await?;
    loop {
        let s = client
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await?;
        if s.stream_description_summary()
            .is_some_and(|d| d.stream_status().as_str() == "ACTIVE")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut g = weir::connectors::generator::generator(
        weir::connectors::generator::Workload::Telemetry,
        11,
    );
    let users: Vec<UserRecord> = (0..records)
        .map(|_| {
            let r = g.next_record();
            UserRecord {
                partition_key: String::from_utf8_lossy(&r.key).into_owned(),
                data: r.value,
            }
        })
        .collect();
    let entries: Vec<PutRecordsRequestEntry> = users
        .chunks(PER_AGGREGATE)
        .enumerate()
        .map(|(i, chunk)| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("aggregate-{i}"))
                .data(Blob::new(aggregate(chunk)))
                .build()
        })
        .collect::<Result<_, _>>()?;
    for call in entries.chunks(40) {
        let out = client
            .put_records()
            .stream_name(stream)
            .set_records(Some(call.to_vec()))
            .send()
            .await?;
        if out.failed_record_count().unwrap_or(0) > 0 {
            return Err("the emulator refused records while loading".into());
        }
    }
    Ok(())
}

/// The bare loop: every shard read to its tip, user records counted.
async fn get_records_loop(client: &Client, stream: &str, records: u64) -> Result<(), Error> {
    let shards = client.list_shards().stream_name(stream).send().await?;
    let mut tasks = Vec::new();
    for shard in shards.shards() {
        let (client, stream, id) = (
            client.clone(),
            stream.to_string(),
            shard.shard_id().to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let it = client
                .get_shard_iterator()
                .stream_name(stream)
                .shard_id(id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await?;
            let mut iterator = it.shard_iterator().map(str::to_string);
            let mut n = 0u64;
            while let Some(i) = iterator.take() {
                let out = client
                    .get_records()
                    .shard_iterator(i)
                    .limit(10_000)
                    .send()
                    .await?;
                for r in out.records() {
                    n += deaggregate(r.data().as_ref()).map_or(1, |u| u.len() as u64);
                }
                if !out.records().is_empty() || out.millis_behind_latest().unwrap_or(0) > 0 {
                    iterator = out.next_shard_iterator().map(str::to_string);
                }
            }
            Ok::<u64, Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    if total != records {
        return Err(format!("the loop read {total} of {records} records").into());
    }
    Ok(())
}

/// A weir pipeline reading the whole stream, stopped once its sink wrote
/// `records`.
async fn weir_job(
    endpoint: &str,
    stream: &str,
    records: u64,
    stage: Option<&str>,
) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(unique("weir"));
    std::fs::create_dir_all(&dir)?;
    let stage = stage.map_or(String::new(), |plugin| {
        format!("[[stages]]\nname = \"pass\"\nkind = \"enricher\"\nplugin = \"{plugin}\"\n")
    });
    let text = format!(
        "name = \"bench\"\n[source]\ntype = \"kinesis\"\nstream = \"{stream}\"\nregion = \"us-east-1\"\nendpoint = \"{endpoint}\"\npoll_interval = \"0ms\"\nidle_interval = \"20ms\"\n\
         [batch]\nmax_records = 1000\nmax_wait_ms = 20\n{stage}[sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n"
    );
    let config = PipelineConfig::from_str(&text, "bench", &dir)?;
    let engine = Engine::new()?;
    let mut registry = weir::connectors::Registry::builtin();
    weir_kinesis::register(&mut registry);
    let metrics = Metrics::new();
    let pipeline = Pipeline::build(&config, &engine, &registry, metrics.clone())?;
    let shutdown = async move {
        let written = [("pipeline", "bench"), ("sink", "out")];
        while metrics.counter_value(weir::metrics::names::SINK_RECORDS, &written) < records {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let summary = tokio::time::timeout(Duration::from_secs(900), pipeline.run(shutdown)).await??;
    let _ = std::fs::remove_dir_all(&dir);
    if summary.records_in < records {
        return Err(format!("weir read {} of {records} records", summary.records_in).into());
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run this.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let endpoint = std::env::var("WEIR_KINESIS_ENDPOINT").map_err(|_| {
        "WEIR_KINESIS_ENDPOINT is not set: run `bash scripts/bench-kinesis.sh`, which starts the emulators"
    })?;
    let env_or = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let records = env_or("WEIR_BENCH_RECORDS", 200_000);
    let rounds = env_or("WEIR_BENCH_ROUNDS", 2);
    let plugin = weir_test_support::plugin("test_passthrough")
        .display()
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = rt.block_on(client(&endpoint));
    let stream = unique("read");
    let started = Instant::now();
    rt.block_on(load(&client, &stream, records))?;
    println!(
        "loaded {records} readings into {stream} ({SHARDS} shards, {PER_AGGREGATE} per KPL aggregate) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for round in 1..=rounds {
        println!("round {round} of {rounds}");
        let mut rates = Vec::new();
        for name in ["GetRecords loop", "weir, no stage", "weir + plugin"] {
            let cpu = cpu_time();
            let started = Instant::now();
            rt.block_on(async {
                match name {
                    "GetRecords loop" => get_records_loop(&client, &stream, records).await,
                    "weir, no stage" => weir_job(&endpoint, &stream, records, None).await,
                    _ => weir_job(&endpoint, &stream, records, Some(&plugin)).await,
                }
            })?;
            let elapsed = started.elapsed().as_secs_f64();
            let rate = records as f64 / elapsed;
            rates.push(rate);
            println!(
                "  {name:<16} {elapsed:>7.2} s  {rate:>9.0} records/s  client CPU {:.2} s",
                cpu_time().saturating_sub(cpu).as_secs_f64()
            );
        }
        if let [base, plain, staged] = rates[..] {
            println!(
                "  weir, no stage / loop: {:.0}%   weir + plugin / loop: {:.0}%",
                100.0 * plain / base,
                100.0 * staged / base
            );
        }
    }
    Ok(())
}
