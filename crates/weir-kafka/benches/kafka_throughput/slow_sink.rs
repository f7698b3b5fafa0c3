//! The memory job: the weir + filter pipeline with its Kafka sink slowed
//! to a tenth of the source's rate, run in a child process of its own so
//! that its peak resident memory is the pipeline's alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use weir::connectors::{ConnectorContext, SinkConnector};
use weir::{DeadLetter, Record, Sink, SinkError};
use weir_kafka::{KafkaConnector, SinkOptions};

use super::Error;

/// Set in the child: the input topic.
pub const INPUT: &str = "WEIR_BENCH_SLOW_INPUT";
/// Set in the child: records per second the sink may write.
pub const RATE: &str = "WEIR_BENCH_SLOW_RATE";
/// Set in the child: records the output topic must reach.
pub const EXPECT: &str = "WEIR_BENCH_SLOW_EXPECT";

/// A Kafka sink that writes no faster than `rate` records per second over
/// all its writes together.
struct Slowed {
    inner: Arc<dyn Sink>,
    per_record: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

#[async_trait]
impl Sink for Slowed {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let until = {
            let mut next = self.next.lock().await;
            let start = (*next).max(tokio::time::Instant::now());
            *next = start + self.per_record * records.len() as u32;
            *next
        };
        tokio::time::sleep_until(until).await;
        self.inner.write(records).await
    }

    fn dead_letter(&self, letter: &DeadLetter) -> Record {
        self.inner.dead_letter(letter)
    }

    async fn close(&self) -> Result<(), SinkError> {
        self.inner.close().await
    }

    fn describe(&self) -> String {
        format!("{} (slowed)", self.inner.describe())
    }
}

/// The `slow-kafka` sink type: `kafka`, slowed.
struct SlowKafka {
    per_record: Duration,
}

impl SinkConnector for SlowKafka {
    type Options = SinkOptions;

    fn build(
        &self,
        name: &str,
        options: SinkOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String> {
        Ok(Arc::new(Slowed {
            inner: KafkaConnector.build(name, options, ctx)?,
            per_record: self.per_record,
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }))
    }
}

/// In the child: runs the job and waits for its output.
pub fn child(brokers: &str, filter: &str) -> Result<(), Error> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let input = var(INPUT)?;
    let rate: f64 = var(RATE)?.parse()?;
    let expect: u64 = var(EXPECT)?.parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let output = super::unique("slow-out");
    rt.block_on(weir_kafka::ensure_topic(
        brokers,
        &output,
        super::PARTITIONS,
        None,
    ))?;
    let text = super::pipeline_text(brokers, &input, &output, Some(filter), "slow-kafka");
    let dir = std::env::temp_dir().join(super::unique("slow-dir"));
    std::fs::create_dir_all(&dir)?;
    let mut registry = weir_kafka::registry();
    registry.register_sink(
        "slow-kafka",
        SlowKafka {
            per_record: Duration::from_secs_f64(1.0 / rate),
        },
    );
    let stop = Arc::new(AtomicBool::new(false));
    let reader = super::reader(brokers)?;
    let started = Instant::now();
    let job = {
        let (stop, handle) = (stop.clone(), rt.handle().clone());
        std::thread::spawn(move || {
            handle
                .block_on(super::run_weir_with(text, dir, stop, registry))
                .map_err(|e| e.to_string())
        })
    };
    let elapsed = super::wait_for(&reader, &output, expect, started, &job);
    stop.store(true, Ordering::Relaxed);
    job.join().map_err(|_| "the job panicked")??;
    let elapsed = elapsed?;
    println!(
        "slow job: {expect} records in {:.1} s ({:.0} records/s)",
        elapsed.as_secs_f64(),
        expect as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
