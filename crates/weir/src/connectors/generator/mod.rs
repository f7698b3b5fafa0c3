//! The `generator` source: deterministic synthetic data, so a pipeline runs
//! with no external service.
//!
//! Options: `workload` (`transactions`, `telemetry` or `race`; default
//! `transactions`), `count` (records, default 10000), `seed` (default 42),
//! `rate` (records per second, 0 = as fast as possible; default 0).
//!
//! The same seed always yields the same bytes. Transactions contain a small,
//! known share of planted fraud (bursts on one card, unusual amounts,
//! country changes); telemetry contains planted harsh braking and
//! over-temperature readings. [`planted`] lists them for tests.

mod data;
mod race;
mod telemetry;
mod transactions;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

pub use data::{EPOCH_MS, Generated, Generator, Rng, Workload, generator};

use super::ConnectorContext;
use crate::pipeline::ConnectorConfig;
use crate::record::{Batch, Position, Record};
use crate::source::{BatchLimits, Source, SourceError};

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WorkloadName {
    Transactions,
    Telemetry,
    Race,
}

impl From<WorkloadName> for Workload {
    fn from(w: WorkloadName) -> Self {
        match w {
            WorkloadName::Transactions => Workload::Transactions,
            WorkloadName::Telemetry => Workload::Telemetry,
            WorkloadName::Race => Workload::Race,
        }
    }
}

fn default_count() -> u64 {
    10_000
}
fn default_seed() -> u64 {
    42
}
fn default_workload() -> WorkloadName {
    WorkloadName::Transactions
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default = "default_workload")]
    workload: WorkloadName,
    #[serde(default = "default_count")]
    count: u64,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    rate: f64,
}

/// A source of `count` generated records.
pub struct GeneratorSource {
    generator: Box<dyn Generator>,
    origin: Arc<str>,
    next: u64,
    count: u64,
    rate: f64,
    seed: u64,
    started: Option<tokio::time::Instant>,
    /// A record made but left for the next batch (it did not fit).
    held: Option<Record>,
}

impl GeneratorSource {
    /// `count` records of `workload` from `seed`, at most `rate` per second
    /// (0 = unlimited).
    pub fn new(workload: Workload, seed: u64, count: u64, rate: f64) -> Self {
        let origin = match workload {
            Workload::Transactions => "transactions",
            Workload::Telemetry => "telemetry",
            Workload::Race => "race-steps",
        };
        GeneratorSource {
            generator: generator(workload, seed),
            origin: Arc::from(origin),
            next: 0,
            held: None,
            count,
            rate,
            seed,
            started: None,
        }
    }
}

#[async_trait]
impl Source for GeneratorSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        if self.next >= self.count {
            return Ok(None);
        }
        let started = *self.started.get_or_insert_with(tokio::time::Instant::now);
        let mut want = (self.count - self.next).min(limits.max_records as u64);
        if self.rate > 0.0 {
            // Wait for the first record, then until the batch is full or
            // the batching window closes, whichever comes first.
            let due_at = |n: u64| started + Duration::from_secs_f64(n as f64 / self.rate);
            let first = due_at(self.next + 1);
            tokio::time::sleep_until(first).await;
            let window = first + Duration::from_millis(limits.max_wait_ms);
            tokio::time::sleep_until(due_at(self.next + want).min(window)).await;
            let elapsed = started.elapsed().as_secs_f64();
            let due = ((elapsed * self.rate) as u64).max(self.next + 1);
            want = want.min(due - self.next);
        }
        let mut records = Vec::with_capacity(want as usize);
        let mut bytes = 0usize;
        while (records.len() as u64) < want {
            let r = match self.held.take() {
                Some(r) => r,
                None => {
                    let g = self.generator.next_record();
                    Record::new(g.value, Position::Offset(self.next), g.timestamp_ms)
                        .with_key(g.key)
                }
            };
            if !limits.admits(records.len(), bytes, r.size()) {
                self.held = Some(r);
                break;
            }
            bytes += r.size();
            records.push(r);
            self.next += 1;
        }
        Ok(Some(Batch {
            origin: self.origin.clone(),
            partition: Arc::from("0"),
            records,
        }))
    }

    async fn commit(&mut self, _partition: &str, _position: &Position) -> Result<(), SourceError> {
        Ok(())
    }

    async fn resume(&mut self, _partition: &str, position: &Position) -> Result<(), SourceError> {
        let Position::Offset(last) = position else {
            return Err(SourceError::new(
                self.describe(),
                format!("cannot resume at `{position}`"),
            ));
        };
        // Regenerate (deterministically) up to the checkpoint.
        while self.next <= *last {
            self.generator.next_record();
            self.next += 1;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("generator {} seed {}", self.origin, self.seed)
    }
}

/// The planted cases among the first `count` records of `workload`/`seed`:
/// `(position, label)`.
pub fn planted(workload: Workload, seed: u64, count: u64) -> Vec<(u64, &'static str)> {
    let mut g = generator(workload, seed);
    (0..count)
        .filter_map(|i| g.next_record().planted.map(|p| (i, p)))
        .collect()
}

pub(crate) fn build_source(
    config: &ConnectorConfig,
    _ctx: &ConnectorContext<'_>,
) -> Result<Box<dyn Source>, String> {
    let o: Options = config.parse()?;
    if !(o.rate >= 0.0 && o.rate.is_finite()) {
        return Err(format!(
            "`rate` must be a non-negative number, got {}",
            o.rate
        ));
    }
    Ok(Box::new(GeneratorSource::new(
        o.workload.into(),
        o.seed,
        o.count,
        o.rate,
    )))
}

pub(crate) fn check_source(config: &ConnectorConfig) -> Result<(), String> {
    config.parse::<Options>().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn drain(
        source: &mut GeneratorSource,
        limits: &BatchLimits,
    ) -> Result<Vec<Record>, SourceError> {
        let mut all = Vec::new();
        while let Some(b) = source.next_batch(limits).await? {
            all.extend(b.records);
        }
        Ok(all)
    }

    #[tokio::test]
    async fn yields_count_records_in_batches() -> Result<(), SourceError> {
        let mut s = GeneratorSource::new(Workload::Telemetry, 1, 1234, 0.0);
        let limits = BatchLimits {
            max_records: 100,
            ..BatchLimits::default()
        };
        let first = s.next_batch(&limits).await?.map(|b| b.records.len());
        assert_eq!(first, Some(100));
        let rest = drain(&mut s, &limits).await?;
        assert_eq!(rest.len(), 1134);
        assert_eq!(
            rest.last().map(|r| r.position.clone()),
            Some(Position::Offset(1233))
        );
        Ok(())
    }

    #[tokio::test]
    async fn rate_limits_the_stream() -> Result<(), SourceError> {
        // 60 records at 600/s cannot take less than ~0.1 s.
        let mut s = GeneratorSource::new(Workload::Transactions, 1, 60, 600.0);
        let started = std::time::Instant::now();
        let all = drain(&mut s, &BatchLimits::default()).await?;
        assert_eq!(all.len(), 60);
        assert!(
            started.elapsed() >= Duration::from_millis(95),
            "{:?}",
            started.elapsed()
        );
        Ok(())
    }

    #[tokio::test]
    async fn resumes_after_a_checkpoint() -> Result<(), SourceError> {
        let mut whole = GeneratorSource::new(Workload::Transactions, 9, 50, 0.0);
        let all = drain(&mut whole, &BatchLimits::default()).await?;
        let mut resumed = GeneratorSource::new(Workload::Transactions, 9, 50, 0.0);
        resumed.resume("0", &Position::Offset(19)).await?;
        let rest = drain(&mut resumed, &BatchLimits::default()).await?;
        assert_eq!(rest, all[20..].to_vec());
        Ok(())
    }
}
