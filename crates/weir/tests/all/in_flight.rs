//! `max_in_flight_mb`: a slow sink slows the reading of the source, and
//! the bytes read but not yet written stay within the bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use weir::metrics::{Metrics, names};
use weir::pipeline::Pipeline;
use weir::{Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

use super::TestResult;

const BATCHES: u64 = 100;
const RECORDS: u64 = 100;
const VALUE: usize = 2560;
/// One batch's bytes: 250 KiB.
const BATCH_BYTES: u64 = RECORDS * VALUE as u64;

/// Bytes read from the source and written by the sink so far, and the
/// most ever read and not yet written.
#[derive(Default)]
struct Flow {
    read: AtomicU64,
    written: AtomicU64,
    most_in_flight: AtomicU64,
}

/// `BATCHES` batches of 250 KiB over four partitions, as fast as asked.
struct Fast {
    next: u64,
    flow: Arc<Flow>,
}

#[async_trait]
impl Source for Fast {
    async fn next_batch(&mut self, _limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.next == BATCHES {
            return Ok(None);
        }
        let b = self.next;
        self.next += 1;
        let records = (0..RECORDS)
            .map(|i| Record::new(vec![b'x'; VALUE], Position::Offset(b * RECORDS + i), 0))
            .collect();
        self.flow.read.fetch_add(BATCH_BYTES, Ordering::SeqCst);
        Ok(Some(Batch::new("fast", format!("p{}", b % 4), records)))
    }

    fn describe(&self) -> String {
        "fast".into()
    }
}

/// Takes 20 ms per write.
struct Slow(Arc<Flow>);

#[async_trait]
impl Sink for Slow {
    async fn write(&self, records: &[Record]) -> Result<(), SinkError> {
        let flow = &self.0;
        let in_flight = flow.read.load(Ordering::SeqCst) - flow.written.load(Ordering::SeqCst);
        flow.most_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let bytes: usize = records.iter().map(Record::size).sum();
        flow.written.fetch_add(bytes as u64, Ordering::SeqCst);
        Ok(())
    }

    fn describe(&self) -> String {
        "slow".into()
    }
}

async fn run(
    max_in_flight_mb: Option<u64>,
) -> Result<(Arc<Flow>, Metrics), Box<dyn std::error::Error>> {
    let flow = Arc::new(Flow::default());
    let metrics = Metrics::new();
    let mut builder = Pipeline::builder("bounded")
        .source(Fast {
            next: 0,
            flow: flow.clone(),
        })
        .sink("out", Slow(flow.clone()))
        .sink("failed", Slow(Arc::default()))
        .on_failure("failed")
        .metrics(metrics.clone());
    if let Some(mb) = max_in_flight_mb {
        builder = builder.max_in_flight_mb(mb);
    }
    let pipeline = builder.build()?;
    tokio::time::timeout(
        Duration::from_secs(60),
        pipeline.run(std::future::pending()),
    )
    .await??;
    Ok((flow, metrics))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_sink_holds_the_source_within_max_in_flight_mb() -> TestResult {
    let (flow, metrics) = run(Some(2)).await?;
    assert_eq!(flow.written.load(Ordering::SeqCst), BATCHES * BATCH_BYTES);
    // The bound, plus the batch the source made while it waited for room.
    let most = flow.most_in_flight.load(Ordering::SeqCst);
    assert!(
        most <= (2 << 20) + BATCH_BYTES,
        "{most} bytes were in flight with max_in_flight_mb = 2"
    );
    let gauge = metrics.gauge_value(names::IN_FLIGHT_BYTES, &[("pipeline", "bounded")]);
    assert_eq!(gauge, Some(0.0), "nothing is in flight at the end");

    // Without the byte bound the batch count alone lets far more in.
    let (flow, _) = run(None).await?;
    let most = flow.most_in_flight.load(Ordering::SeqCst);
    assert!(
        most > 4 << 20,
        "only {most} bytes in flight with the default"
    );
    Ok(())
}

#[test]
fn max_in_flight_mb_is_checked() {
    let built = Pipeline::builder("bounded")
        .source(Fast {
            next: 0,
            flow: Arc::default(),
        })
        .sink("out", Slow(Arc::default()))
        .max_in_flight_mb(0)
        .build();
    let Err(e) = built else {
        panic!("max_in_flight_mb = 0 was accepted")
    };
    assert!(e.to_string().contains("max_in_flight_mb"), "{e}");
}
