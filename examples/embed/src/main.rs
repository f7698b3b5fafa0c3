//! Embedding weir in your own Rust program.
//!
//! Run with: bash plugins/build.sh && cargo run --release -p weir-embed-example
//!
//! Part 1 loads the fraud scorer and calls it directly on a batch.
//! Part 2 builds a pipeline in code (no config file) with a source and a
//! sink of its own: card payments in from a channel, alerts out into memory.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use tokio::sync::mpsc;
use weir::connectors::generator::{Workload, generator};
use weir::pipeline::{Condition, Pipeline, Route, Stage};
use weir::plugin::{Engine, Grants, InstanceOptions};
use weir::{Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

fn plugin_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"))
}

/// Part 1: one plugin, called on batches from our own code.
fn call_a_plugin(engine: &Engine) -> anyhow::Result<()> {
    let path = plugin_path("fraud_scorer");
    let plugin = engine
        .load_file(&path, Grants::default())
        .with_context(|| {
            format!(
                "loading {} (run `bash plugins/build.sh` first)",
                path.display()
            )
        })?;
    let mut scorer = plugin.instantiate(InstanceOptions::default())?;

    // Six card payments within a minute, then one from another country.
    let mut records = Vec::new();
    for i in 0..7u64 {
        let country = if i == 6 { "BR" } else { "DE" };
        let value = format!(
            r#"{{"txn_id":"t-{i}","card_id":"c-1","amount":25.0,"country":"{country}","ts":{}}}"#,
            1_767_225_600_000 + i * 5_000
        );
        records.push(Record::new(value.into_bytes(), Position::Offset(i), 0));
    }
    let outcome = scorer
        .process(Batch::new("payments", "0", records))
        .map_err(|failure| failure.error)?;
    for r in &outcome.records {
        println!(
            "embed: txn at offset {} scored {:.2} {:?}",
            r.position,
            r.score.unwrap_or_default(),
            r.labels
        );
    }
    Ok(())
}

/// A source of our own: records a producer task sends over a channel, one
/// partition, positions counted from 0. The run ends when the producer
/// drops its end.
struct ChannelSource {
    records: mpsc::Receiver<Record>,
}

#[async_trait]
impl Source for ChannelSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        // Wait for a first record, then take what else is there, up to the
        // batch limit and for at most the batching window.
        let Some(first) = self.records.recv().await else {
            return Ok(None);
        };
        let mut records = vec![first];
        let window = tokio::time::sleep(Duration::from_millis(limits.max_wait_ms));
        tokio::pin!(window);
        while records.len() < limits.max_records {
            tokio::select! {
                next = self.records.recv() => match next {
                    Some(r) => records.push(r),
                    None => break,
                },
                () = &mut window => break,
            }
        }
        Ok(Some(Batch::new("payments", "0", records)))
    }

    fn describe(&self) -> String {
        "channel payments".into()
    }
}

/// A sink of our own: keeps what it is given in memory.
#[derive(Default)]
struct VecSink {
    records: Mutex<Vec<Record>>,
}

#[async_trait]
impl Sink for VecSink {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        self.records
            .lock()
            .map_err(|e| SinkError::new("memory", e))?
            .extend_from_slice(records);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// Part 2: a whole pipeline built in code, with our own source and sinks.
async fn run_a_pipeline(engine: &Engine) -> anyhow::Result<()> {
    let scorer = engine.load_file(&plugin_path("fraud_scorer"), Grants::default())?;
    let alerts = Arc::new(VecSink::default());
    let failed = Arc::new(VecSink::default());
    let (tx, rx) = mpsc::channel(1024);
    let pipeline = Pipeline::builder("embedded")
        .source(ChannelSource { records: rx })
        .stage(Stage::new("score", scorer))
        .shared_sink("alerts", alerts.clone())
        .shared_sink("failed", failed.clone())
        .route(Route::when("alerts", Condition::parse("score >= 0.7")?))
        .on_failure("failed")
        .build()?;

    // 5,000 generated card payments, sent while the pipeline runs.
    let producer = tokio::spawn(async move {
        let mut payments = generator(Workload::Transactions, 42);
        for offset in 0..5_000u64 {
            let p = payments.next_record();
            let record =
                Record::new(p.value, Position::Offset(offset), p.timestamp_ms).with_key(p.key);
            if tx.send(record).await.is_err() {
                break;
            }
        }
    });
    let summary = pipeline.run(std::future::pending()).await?;
    producer.await?;

    let kept = alerts
        .records
        .lock()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .len();
    let written = summary.written.get("alerts").copied().unwrap_or(0);
    anyhow::ensure!(
        kept as u64 == written,
        "the alert sink holds {kept} records, the summary says {written}"
    );
    anyhow::ensure!(
        failed
            .records
            .lock()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_empty(),
        "records failed"
    );
    println!(
        "embed: pipeline read {} records and wrote {kept} alerts",
        summary.records_in
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = Engine::new()?;
    call_a_plugin(&engine)?;
    run_a_pipeline(&engine).await
}
