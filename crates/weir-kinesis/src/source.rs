//! The Kinesis source: shards read in parallel by a coordinator's readers,
//! batched per shard, checkpointed when acknowledged.
//!
//! Checkpoints: the runtime's acknowledgements ([`weir::Acks`]) record how
//! far each shard is acknowledged by every sink (dropped records
//! included), also while the source waits for records. The coordinator
//! writes that to the lease table when it renews its leases (three times per
//! lease duration), when a shard finishes and when the source closes; with
//! no lease table the runtime's own store keeps it. A shard read to its end
//! with every record acknowledged is checkpointed `SHARD_END`, and only then
//! are its children read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use weir::metrics::Metrics;
use weir::{Acks, Batch, BatchLimits, PartitionBatcher, Position, Source, SourceError};

use crate::aws::{self, Kind};
use crate::coordinator::{Coordinator, Sharing};
use crate::leases::{DynamoLeases, LeaseStore, LocalLeases};
use crate::options::{Connection, SourceOptions, SourceSettings, Start};
use crate::progress::Progress;
use crate::reader::{Control, Delivery, ReaderContext};
use crate::retry::Backoff;
use crate::sequence::SeqKey;
use crate::shards::StreamRef;

/// A Kinesis stream source (`type = "kinesis"`).
pub struct KinesisSource {
    options: SourceOptions,
    settings: SourceSettings,
    connection: Connection,
    description: String,
    metrics: Metrics,
    /// Checkpoints from weir's own store.
    resumed: HashMap<String, SeqKey>,
    running: Option<Running>,
    /// Where the runtime's acknowledgements arrive.
    acks: Acks,
}

impl Running {
    /// Takes the acknowledged positions into the shards' progress, waking
    /// the coordinator when a checkpoint moved.
    fn take_acks(&self, acks: &Acks, description: &str) {
        let mut moved = false;
        for (shard, position) in acks.take() {
            match SeqKey::from_position(&position) {
                Some(key) => moved |= self.progress.ack(&shard, key),
                None => {
                    tracing::warn!(source = %description, shard = %shard, "cannot checkpoint position {position}: not a sequence number");
                }
            }
        }
        if moved {
            self.wake.notify_one();
        }
    }
}

struct Running {
    origin: Arc<str>,
    deliveries: mpsc::Receiver<Delivery>,
    control: mpsc::UnboundedReceiver<Control>,
    progress: Arc<Progress>,
    wake: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    coordinator: JoinHandle<()>,
    batcher: PartitionBatcher,
}

/// The endpoint a connection talks to, for messages.
pub(crate) fn endpoint_text(connection: &Connection, region: Option<&str>) -> String {
    match (&connection.endpoint, region) {
        (Some(e), _) => e.clone(),
        (None, Some(r)) => format!("https://kinesis.{r}.amazonaws.com"),
        (None, None) => "the default AWS endpoint".into(),
    }
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "weir".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host}-{}-{nanos:08x}", std::process::id())
}

impl KinesisSource {
    /// A source reading the stream of `connection`; connects on the first
    /// batch.
    pub fn new(
        connection: Connection,
        options: &SourceOptions,
        metrics: Metrics,
    ) -> Result<Self, String> {
        connection.check()?;
        let settings = options.settings()?;
        Ok(KinesisSource {
            description: format!("kinesis stream {}", connection.stream_name()),
            options: options.clone(),
            settings,
            connection,
            metrics,
            resumed: HashMap::new(),
            acks: Acks::new(),
            running: None,
        })
    }

    fn error(&self, message: impl ToString) -> SourceError {
        SourceError::new(&self.description, message)
    }

    /// Checks the stream is there and readable, waiting while it is being
    /// created; a few tries when the endpoint does not answer.
    async fn check_stream(
        &self,
        client: &aws_sdk_kinesis::Client,
        stream: &StreamRef,
        at: &str,
    ) -> Result<(), SourceError> {
        let name = self.connection.stream_name();
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = client
                .describe_stream_summary()
                .set_stream_name(stream.name())
                .set_stream_arn(stream.arn())
                .send()
                .await;
            let f = match out {
                Ok(out) => {
                    let status = out
                        .stream_description_summary()
                        .map(|s| s.stream_status().as_str().to_string())
                        .unwrap_or_default();
                    match status.as_str() {
                        "ACTIVE" | "UPDATING" => return Ok(()),
                        "CREATING" if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(250)).await;
                            continue;
                        }
                        other => {
                            return Err(
                                self.error(format!("stream {name} at {at} is {other}, not ACTIVE"))
                            );
                        }
                    }
                }
                Err(e) => aws::failure(&e),
            };
            let message = match f.kind {
                Kind::NotFound => format!("stream {name} does not exist at {at} ({f})"),
                Kind::Credentials => {
                    format!("{at} refused the credentials for stream {name}: {f}")
                }
                Kind::NoCredentials => format!("stream {name} at {at}: {f}"),
                Kind::Unreachable => format!("cannot reach Kinesis at {at} (stream {name}): {f}"),
                _ => format!("describing stream {name} at {at}: {f}"),
            };
            if f.transient() && backoff.attempts() < 4 {
                tracing::warn!(source = %self.description, "{message}; trying again");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
            return Err(self.error(message));
        }
    }

    async fn start(&mut self, limits: &BatchLimits) -> Result<(), SourceError> {
        let sdk = aws::sdk_config(&self.connection).await;
        let Some(region) = sdk.region().map(ToString::to_string) else {
            return Err(self.error(
                "no AWS region: set `region` in the source, or AWS_REGION in the environment",
            ));
        };
        let at = endpoint_text(&self.connection, Some(&region));
        let client = aws::kinesis(&sdk, &self.connection);
        let stream = StreamRef {
            name: self.connection.stream_name().to_string(),
            arn: self
                .connection
                .is_arn()
                .then(|| self.connection.stream.clone()),
        };
        self.check_stream(&client, &stream, &at).await?;
        let (store, sharing, worker): (Box<dyn LeaseStore>, Sharing, String) =
            match &self.options.lease_table {
                Some(table) => {
                    let endpoint = self
                        .options
                        .dynamodb_endpoint
                        .clone()
                        .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
                    let dynamo = aws::dynamodb(&sdk, self.options.dynamodb_endpoint.as_deref());
                    let worker = self
                        .options
                        .worker_id
                        .clone()
                        .unwrap_or_else(default_worker_id);
                    (
                        Box::new(DynamoLeases::new(dynamo, table, &endpoint)),
                        Sharing::Shared,
                        worker,
                    )
                }
                None => (
                    Box::new(LocalLeases::default()),
                    Sharing::Alone,
                    "local".into(),
                ),
            };
        let mut store = store;
        store.prepare().await.map_err(|e| self.error(e))?;
        let progress = Arc::new(Progress::default());
        let wake = Arc::new(Notify::new());
        let (deliveries_tx, deliveries) = mpsc::channel(16);
        let (control_tx, control) = mpsc::unbounded_channel();
        let ctx = Arc::new(ReaderContext {
            client,
            described: format!("stream {} at {at}", stream.name),
            stream,
            settings: self.settings.clone(),
            start_ms: match self.options.start {
                Start::AtTimestamp(ms) => Some(ms),
                _ => None,
            },
            metrics: self.metrics.clone(),
            progress: progress.clone(),
            deliveries: deliveries_tx,
            control: control_tx,
            wake: wake.clone(),
        });
        let coordinator = Coordinator::new(
            store,
            sharing,
            worker,
            self.options.start,
            ctx,
            self.resumed.clone(),
        );
        let (stop_tx, stop) = oneshot::channel();
        let coordinator = tokio::spawn(coordinator.run(stop));
        self.running = Some(Running {
            origin: self.connection.stream_name().into(),
            deliveries,
            control,
            progress,
            wake,
            stop: Some(stop_tx),
            coordinator,
            batcher: PartitionBatcher::new(*limits),
        });
        Ok(())
    }
}

impl Running {
    /// Applies a message of the coordinator; an error ends the source.
    fn on_control(&mut self, c: Control) -> Result<(), String> {
        match c {
            Control::Lost(shard) => {
                let dropped = self.batcher.discard(&shard);
                if dropped > 0 {
                    tracing::info!(shard = %shard, records = dropped, "lease lost: dropped records not yet batched (the new owner reads them)");
                }
                Ok(())
            }
            Control::Fatal(message) => Err(message),
        }
    }
}

#[async_trait]
impl Source for KinesisSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.running.is_none() {
            self.start(limits).await?;
        }
        let description = self.description.clone();
        let Some(r) = self.running.as_mut() else {
            return Err(self.error("the source is closed"));
        };
        let window = Duration::from_millis(limits.max_wait_ms.max(1));
        loop {
            while let Ok(c) = r.control.try_recv() {
                r.on_control(c)
                    .map_err(|m| SourceError::new(&description, m))?;
            }
            let now = Instant::now();
            if let Some(b) = r.batcher.pop(now) {
                return Ok(Some(b));
            }
            r.take_acks(&self.acks, &description);
            let deadline = r.batcher.deadline().unwrap_or(now + window);
            tokio::select! {
                biased;
                c = r.control.recv() => match c {
                    Some(c) => r.on_control(c).map_err(|m| SourceError::new(&description, m))?,
                    None => return Err(SourceError::new(&description, "the shard coordinator stopped")),
                },
                d = r.deliveries.recv() => {
                    let Some(d) = d else {
                        return Err(SourceError::new(&description, "every shard reader stopped"));
                    };
                    if r.progress.is_current(&d.shard, d.generation) {
                        let now = Instant::now();
                        for record in d.records {
                            r.batcher.push(&r.origin, &d.shard, record, now);
                        }
                    }
                }
                () = self.acks.changed() => r.take_acks(&self.acks, &description),
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    async fn resume(&mut self, partition: &str, position: &Position) -> Result<(), SourceError> {
        if let Some(key) = SeqKey::from_position(position) {
            self.resumed.insert(partition.to_string(), key);
        }
        Ok(())
    }

    async fn open(&mut self, acks: Acks) -> Result<(), SourceError> {
        self.acks = acks;
        Ok(())
    }

    async fn close(&mut self) -> Result<(), SourceError> {
        let Some(mut r) = self.running.take() else {
            return Ok(());
        };
        // The last checkpoints go to the coordinator before it stops.
        r.take_acks(&self.acks, &self.description);
        if let Some(stop) = r.stop.take() {
            let _ = stop.send(());
        }
        let wait = self.settings.lease_duration + Duration::from_secs(10);
        match tokio::time::timeout(wait, &mut r.coordinator).await {
            Ok(_) => Ok(()),
            Err(_) => {
                r.coordinator.abort();
                Err(self.error(format!(
                    "releasing the leases took longer than {wait:?}; they expire by themselves"
                )))
            }
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
