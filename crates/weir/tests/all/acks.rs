//! Sources learn which positions are safe through their acknowledgement
//! handle, also while they wait for records.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use weir::pipeline::Pipeline;
use weir::{Acks, Batch, BatchLimits, Position, Record, Sink, SinkError, Source, SourceError};

use super::TestResult;

/// Yields one batch of ten records, then waits for records that never
/// come, taking acknowledgements as they arrive.
struct OnceThenIdle {
    sent: bool,
    acks: Acks,
    seen: Arc<Mutex<Vec<(String, Position)>>>,
}

#[async_trait]
impl Source for OnceThenIdle {
    async fn open(&mut self, acks: Acks) -> Result<(), SourceError> {
        self.acks = acks;
        Ok(())
    }

    async fn next_batch(&mut self, _limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if !self.sent {
            self.sent = true;
            let records = (0..10u64)
                .map(|i| Record::new(format!("{{\"n\":{i}}}"), Position::Offset(i), 0))
                .collect();
            return Ok(Some(Batch::new("idle", "p0", records)));
        }
        // Idle for good: no empty batch is ever returned.
        loop {
            self.acks.changed().await;
            let mut seen = self.seen.lock().map_err(|e| SourceError::new("idle", e))?;
            seen.extend(
                self.acks
                    .take()
                    .into_iter()
                    .map(|(p, pos)| (p.to_string(), pos)),
            );
        }
    }

    fn describe(&self) -> String {
        "idle".into()
    }
}

/// Accepts everything.
struct Accept;

#[async_trait]
impl Sink for Accept {
    async fn write(&self, _records: &[Record]) -> Result<(), SinkError> {
        Ok(())
    }

    fn describe(&self) -> String {
        "accept".into()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_source_receives_its_acknowledgements_while_it_waits() -> TestResult {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let pipeline = Pipeline::builder("idle")
        .source(OnceThenIdle {
            sent: false,
            acks: Acks::new(),
            seen: seen.clone(),
        })
        .sink("out", Accept)
        .sink("failed", Accept)
        .on_failure("failed")
        .build()?;
    let watched = seen.clone();
    // Stop the run once the source has seen the last position: it can only
    // see it through the handle, since its `next_batch` never returns.
    let acknowledged = async move {
        loop {
            let done = watched
                .lock()
                .map(|s| s.contains(&("p0".to_string(), Position::Offset(9))))
                .unwrap_or(false);
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let summary = tokio::time::timeout(Duration::from_secs(20), pipeline.run(acknowledged))
        .await
        .map_err(|_| "the source never saw its acknowledgement")??;
    assert_eq!((summary.records_in, summary.written["out"]), (10, 10));
    Ok(())
}
