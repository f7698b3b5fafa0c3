//! What the Kinesis tests share: the emulators, streams, records in and
//! out, running `weir`.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, StreamStatus};

pub use weir_test_support::process::{Error, TestResult, Weir, serial, unique, write_config};

/// The access key the tests sign with.
pub const ACCESS_KEY: &str = "weir-test";

/// The kinesis-mock endpoint the test command started.
pub fn kinesis_endpoint() -> String {
    endpoint("WEIR_KINESIS_ENDPOINT")
}

/// The dynalite endpoint the test command started.
pub fn dynamodb_endpoint() -> String {
    endpoint("WEIR_DYNAMODB_ENDPOINT")
}

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: these tests need the Kinesis and DynamoDB emulators. \
             Run the whole suite with `bash scripts/test.sh`, or start them with \
             `eval \"export $(bash scripts/kinesis.sh start | tr '\\n' ' ')\"`"
        )
    })
}

/// The environment `weir` runs with: test credentials and region, nothing
/// from the machine's own AWS settings.
pub fn aws_env() -> Vec<(&'static str, Option<&'static str>)> {
    vec![
        ("AWS_ACCESS_KEY_ID", Some(ACCESS_KEY)),
        ("AWS_SECRET_ACCESS_KEY", Some("weir-test-secret")),
        ("AWS_REGION", Some("us-east-1")),
        ("AWS_SESSION_TOKEN", None),
        ("AWS_PROFILE", None),
        ("AWS_ENDPOINT_URL", None),
        ("AWS_EC2_METADATA_DISABLED", Some("true")),
    ]
}

/// `weir run config` with the test AWS environment.
pub fn start_weir(config: &Path, log_name: &str) -> Result<Weir, Error> {
    Weir::start_env(config, log_name, &[], &aws_env())
}

/// A record as a test puts it and where Kinesis stored it.
#[derive(Debug, Clone)]
pub struct Put {
    pub data: Vec<u8>,
    pub shard: String,
    pub seq: String,
}

/// A shard as ListShards describes it.
#[derive(Debug, Clone)]
pub struct ShardInfo {
    pub id: String,
    pub parents: Vec<String>,
    pub closed: bool,
    pub hash_start: u128,
    pub hash_end: u128,
}

/// Clients for the emulators, on a runtime of their own.
pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub kinesis: aws_sdk_kinesis::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl Aws {
    pub fn new() -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let creds = aws_sdk_kinesis::config::Credentials::new(
            ACCESS_KEY,
            "weir-test-secret",
            None,
            None,
            "weir-tests",
        );
        let sdk = rt.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(weir_kinesis::https_client())
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(creds)
                .load(),
        );
        let kinesis = aws_sdk_kinesis::Client::from_conf(
            aws_sdk_kinesis::config::Builder::from(&sdk)
                .endpoint_url(kinesis_endpoint())
                .build(),
        );
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(dynamodb_endpoint())
                .build(),
        );
        Ok(Aws {
            rt,
            kinesis,
            dynamodb,
        })
    }

    /// Waits until the stream is ACTIVE.
    pub fn wait_active(&self, stream: &str) -> TestResult {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.rt.block_on(
                self.kinesis
                    .describe_stream_summary()
                    .stream_name(stream)
                    .send(),
            )?;
            let status = out
                .stream_description_summary()
                .map(|s| s.stream_status().clone());
            if status == Some(StreamStatus::Active) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("stream {stream} is {status:?} after 60 s").into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Creates `stream` with `shards` shards and waits until it is ACTIVE.
    pub fn create_stream(&self, stream: &str, shards: i32) -> TestResult {
        self.rt.block_on(
            self.kinesis
                .create_stream()
                .stream_name(stream)
                .shard_count(shards)
                .send(),
        )?;
        self.wait_active(stream)
    }

    /// PutRecords in calls of 500, sending refused records again. Returns
    /// where each record went, in the order given.
    pub fn put(&self, stream: &str, records: &[(String, Vec<u8>)]) -> Result<Vec<Put>, Error> {
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(500) {
            let mut placed: Vec<Option<(String, String)>> = vec![None; chunk.len()];
            let mut pending: Vec<usize> = (0..chunk.len()).collect();
            for _ in 0..50 {
                if pending.is_empty() {
                    break;
                }
                let entries = pending
                    .iter()
                    .map(|&i| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(&chunk[i].0)
                            .data(Blob::new(chunk[i].1.clone()))
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let res = self.rt.block_on(
                    self.kinesis
                        .put_records()
                        .stream_name(stream)
                        .set_records(Some(entries))
                        .send(),
                )?;
                let mut again = Vec::new();
                for (&i, r) in pending.iter().zip(res.records()) {
                    match (r.shard_id(), r.sequence_number()) {
                        (Some(s), Some(q)) if r.error_code().is_none() => {
                            placed[i] = Some((s.to_string(), q.to_string()));
                        }
                        _ => again.push(i),
                    }
                }
                pending = again;
            }
            if !pending.is_empty() {
                return Err(format!("{} records refused 50 times", pending.len()).into());
            }
            for (i, p) in placed.into_iter().enumerate() {
                let (shard, seq) = p.ok_or("a record was not placed")?;
                out.push(Put {
                    data: chunk[i].1.clone(),
                    shard,
                    seq,
                });
            }
        }
        Ok(out)
    }

    /// One PutRecord (for aggregated records, one per call).
    pub fn put_one(&self, stream: &str, key: &str, data: Vec<u8>) -> Result<Put, Error> {
        let r = self.rt.block_on(
            self.kinesis
                .put_record()
                .stream_name(stream)
                .partition_key(key)
                .data(Blob::new(data.clone()))
                .send(),
        )?;
        Ok(Put {
            data,
            shard: r.shard_id().to_string(),
            seq: r.sequence_number().to_string(),
        })
    }

    /// Every shard of `stream`.
    pub fn shards(&self, stream: &str) -> Result<Vec<ShardInfo>, Error> {
        let out = self
            .rt
            .block_on(self.kinesis.list_shards().stream_name(stream).send())?;
        let mut shards = Vec::new();
        for s in out.shards() {
            let range = s.hash_key_range().ok_or("no hash key range")?;
            let mut parents: Vec<String> = s
                .parent_shard_id()
                .map(str::to_string)
                .into_iter()
                .collect();
            parents.extend(s.adjacent_parent_shard_id().map(str::to_string));
            shards.push(ShardInfo {
                id: s.shard_id().to_string(),
                parents,
                closed: s
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some(),
                hash_start: range.starting_hash_key().parse()?,
                hash_end: range.ending_hash_key().parse()?,
            });
        }
        Ok(shards)
    }

    /// Splits `shard` in the middle of its hash range.
    pub fn split(&self, stream: &str, shard: &ShardInfo) -> TestResult {
        let middle = shard.hash_start + (shard.hash_end - shard.hash_start) / 2;
        self.rt.block_on(
            self.kinesis
                .split_shard()
                .stream_name(stream)
                .shard_to_split(&shard.id)
                .new_starting_hash_key(middle.to_string())
                .send(),
        )?;
        self.wait_active(stream)
    }

    /// Merges two adjacent shards.
    pub fn merge(&self, stream: &str, a: &str, b: &str) -> TestResult {
        self.rt.block_on(
            self.kinesis
                .merge_shards()
                .stream_name(stream)
                .shard_to_merge(a)
                .adjacent_shard_to_merge(b)
                .send(),
        )?;
        self.wait_active(stream)
    }

    /// The lease table's items: shard → (owner, checkpoint).
    pub fn leases(&self, table: &str) -> Result<HashMap<String, (Option<String>, String)>, Error> {
        let out = self.rt.block_on(
            self.dynamodb
                .scan()
                .table_name(table)
                .consistent_read(true)
                .send(),
        )?;
        let text = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_s().ok()).cloned()
        };
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                Some((
                    text(item, "leaseKey")?,
                    (text(item, "leaseOwner"), text(item, "checkpoint")?),
                ))
            })
            .collect())
    }
}

/// A telemetry reading as JSON, numbered `n`, from vehicle `n % vehicles`.
pub fn reading(n: u64, vehicles: u64) -> (String, Vec<u8>) {
    let vehicle = format!("v-{:03}", n % vehicles);
    // Speeds cycle through 0..97 km/h; lat/lon stay in Berlin.
    let speed = (n * 37 % 97) as f64;
    let value = serde_json::json!({
        "vehicle_id": vehicle,
        "ts": 1_767_225_600_000u64 + n,
        "lat": 52.45 + (n % 10) as f64 * 0.01,
        "lon": 13.35 + (n % 7) as f64 * 0.01,
        "speed_kmh": speed,
        "engine_temp_c": 90.0,
        "fuel_pct": 50.0,
        "accel_mps2": 0.1,
    });
    (vehicle, value.to_string().into_bytes())
}

/// The lines of a JSON-lines file (none if it does not exist).
pub fn read_lines(path: &Path) -> Result<Vec<serde_json::Value>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(Into::into))
        .collect()
}

/// Waits until `path` holds at least `n` lines while every process in
/// `running` stays up.
pub fn wait_for_lines(
    path: &Path,
    n: usize,
    limit: Duration,
    running: &mut [&mut Weir],
) -> TestResult {
    let deadline = Instant::now() + limit;
    loop {
        let have = std::fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if have >= n {
            return Ok(());
        }
        for w in running.iter_mut() {
            w.check_running()?;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = running.iter().map(|w| w.log_tail()).collect();
            return Err(format!(
                "{} has {have} of {n} lines after {limit:?}; logs:\n{}",
                path.display(),
                logs.join("\n---\n")
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `[source]` table for `stream`, with quick polling for tests.
pub fn source(stream: &str, extra: &str) -> String {
    format!(
        r#"[source]
type = "kinesis"
stream = "{stream}"
region = "us-east-1"
endpoint = "{}"
poll_interval = "50ms"
idle_interval = "200ms"
shard_sync_interval = "1s"
{extra}
"#,
        kinesis_endpoint()
    )
}

/// The path of a test plugin, as TOML text.
pub fn plugin(name: &str) -> String {
    weir_test_support::plugin(name).display().to_string()
}

impl Aws {
    /// Every record of `stream`, per shard in order: (shard, sequence
    /// number, data).
    pub fn read_stream(&self, stream: &str) -> Result<Vec<(String, String, Vec<u8>)>, Error> {
        let mut out = Vec::new();
        for shard in self.shards(stream)? {
            let it = self.rt.block_on(
                self.kinesis
                    .get_shard_iterator()
                    .stream_name(stream)
                    .shard_id(&shard.id)
                    .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
                    .send(),
            )?;
            let mut iterator = it.shard_iterator().map(str::to_string);
            while let Some(i) = iterator.take() {
                let r = self
                    .rt
                    .block_on(self.kinesis.get_records().shard_iterator(&i).send())?;
                for rec in r.records() {
                    out.push((
                        shard.id.clone(),
                        rec.sequence_number().to_string(),
                        rec.data().as_ref().to_vec(),
                    ));
                }
                let caught_up =
                    r.records().is_empty() && r.millis_behind_latest().unwrap_or(0) == 0;
                if !caught_up {
                    iterator = r.next_shard_iterator().map(str::to_string);
                }
            }
        }
        Ok(out)
    }
}

/// The reading number of an output line (its `ts` minus the base).
pub fn number(line: &serde_json::Value) -> Option<u64> {
    line["ts"].as_u64()?.checked_sub(1_767_225_600_000)
}

/// A free port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Puts readings `0..batches * per_batch` (from `vehicles` vehicles) into
/// `stream` from a thread of its own: one PutRecords call of `per_batch`
/// every 100 ms, so records keep arriving while a test does other things.
pub fn spawn_producer(
    stream: &str,
    batches: u64,
    per_batch: u64,
    vehicles: u64,
) -> std::thread::JoinHandle<Result<Vec<Put>, String>> {
    let stream = stream.to_string();
    std::thread::spawn(move || {
        let aws = Aws::new().map_err(|e| e.to_string())?;
        let mut placed = Vec::new();
        for b in 0..batches {
            let records: Vec<(String, Vec<u8>)> = (b * per_batch..(b + 1) * per_batch)
                .map(|n| reading(n, vehicles))
                .collect();
            placed.extend(aws.put(&stream, &records).map_err(|e| e.to_string())?);
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(placed)
    })
}

/// A pipeline named `name`: the `[source]` table `source`, event patterns
/// `filter` (if any), the telemetry enricher, and a file sink at `out`.
pub fn enricher_pipeline(name: &str, source: &str, filter: Option<&str>, out: &Path) -> String {
    let filter = filter
        .map(|f| format!("[filter]\npatterns = ['{f}']\n"))
        .unwrap_or_default();
    format!(
        "name = \"{name}\"\n{source}\n{filter}\n[[stages]]\nname = \"enrich\"\nkind = \"enricher\"\nplugin = \"{}\"\n\n[sinks.out]\ntype = \"file\"\npath = \"{}\"\n",
        plugin("telemetry_enricher"),
        out.display()
    )
}
