//! The `generator` source: deterministic synthetic data, so a pipeline runs
//! with no external service.
//!
//! Options: `workload` (`transactions`, `telemetry` or `race`; default
//! `transactions`), `count` (records, default 10000), `seed` (default 42),
//! `rate` (records per second, 0 = as fast as possible; default 0),
//! `partitions` (default 1: records are spread over that many partitions by
//! a hash of their key, each with its own offsets, like a Kafka topic),
//! `hot_engines` (telemetry only; default 0, off: that many of the 50
//! vehicles, chosen by the seed, run hot for five minutes of event time
//! from the middle of the run, record `count / 2` — their engines warm to
//! 100–104 °C, up to 14 °C above their own normal yet under the fixed
//! over-temperature thresholds, and cool down afterwards; what per-vehicle
//! anomaly detection finds, see `examples/connected-vehicles/anomaly.toml`).
//!
//! The same seed always yields the same bytes. Transactions contain a small,
//! known share of planted fraud (bursts on one card, unusual amounts,
//! country changes); telemetry contains planted harsh braking and
//! over-temperature readings. [`planted`] lists them for tests. With
//! `hot_engines`, only those vehicles' engine temperatures differ from the
//! run without it, from their hot minutes on.

mod data;
mod race;
mod telemetry;
mod transactions;

use std::hash::Hasher as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

pub use data::{EPOCH_MS, Generated, Generator, Workload, generator};
use telemetry::{Telemetry, VEHICLES};

use super::{ConnectorContext, SourceConnector};
use crate::pattern::hash::FastHasher;
use crate::record::{Batch, Position, Record};
use crate::source::{BatchLimits, PartitionBatcher, Source, SourceError};

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

/// Options of the `generator` source (see the module docs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default = "default_workload")]
    workload: WorkloadName,
    #[serde(default = "default_count")]
    count: u64,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    rate: f64,
    #[serde(default = "one")]
    partitions: u32,
    #[serde(default)]
    hot_engines: u32,
}

fn one() -> u32 {
    1
}

/// A source of `count` generated records.
pub struct GeneratorSource {
    generator: Box<dyn Generator>,
    workload: Workload,
    origin: Arc<str>,
    /// Records generated so far (over all partitions).
    next: u64,
    count: u64,
    rate: f64,
    seed: u64,
    started: Option<tokio::time::Instant>,
    partitions: Vec<Arc<str>>,
    /// Per partition: the next offset, and the last offset already
    /// processed in an earlier run (records up to it are skipped).
    offsets: Vec<u64>,
    resume_after: Vec<Option<u64>>,
    batcher: Option<PartitionBatcher>,
}

impl GeneratorSource {
    /// `count` records of `workload` from `seed`, at most `rate` per second
    /// (0 = unlimited), in one partition.
    pub fn new(workload: Workload, seed: u64, count: u64, rate: f64) -> Self {
        Self::with_partitions(workload, seed, count, rate, 1)
    }

    /// The same records spread over `partitions` partitions by key.
    pub fn with_partitions(
        workload: Workload,
        seed: u64,
        count: u64,
        rate: f64,
        partitions: u32,
    ) -> Self {
        let origin = match workload {
            Workload::Transactions => "transactions",
            Workload::Telemetry => "telemetry",
            Workload::Race => "race-steps",
        };
        let n = partitions.max(1) as usize;
        GeneratorSource {
            generator: generator(workload, seed),
            workload,
            origin: Arc::from(origin),
            next: 0,
            count,
            rate,
            seed,
            started: None,
            partitions: (0..n).map(|p| Arc::from(p.to_string())).collect(),
            offsets: vec![0; n],
            resume_after: vec![None; n],
            batcher: None,
        }
    }

    /// Makes `n` vehicles of the telemetry workload run hot for five
    /// minutes from the middle of the run (the `hot_engines` option, see
    /// the module docs); `n = 0` and the other workloads are unchanged.
    /// Call it before the first batch.
    #[must_use]
    pub fn with_hot_engines(mut self, n: u32) -> Self {
        if n > 0 && self.workload == Workload::Telemetry {
            self.generator = Box::new(Telemetry::with_hot_engines(self.seed, n, self.count));
        }
        self
    }

    fn partition_of(&self, key: &[u8]) -> usize {
        if self.partitions.len() == 1 {
            return 0;
        }
        let mut h = FastHasher::default();
        h.write(key);
        (h.finish() % self.partitions.len() as u64) as usize
    }

    /// Generates records up to (not including) number `until`.
    fn generate(&mut self, until: u64, now: tokio::time::Instant) {
        while self.next < until {
            let g = self.generator.next_record();
            self.next += 1;
            let p = self.partition_of(&g.key);
            let offset = self.offsets[p];
            self.offsets[p] += 1;
            if self.resume_after[p].is_some_and(|last| offset <= last) {
                continue;
            }
            let record =
                Record::new(g.value, Position::Offset(offset), g.timestamp_ms).with_key(g.key);
            if let Some(b) = &mut self.batcher {
                b.push(&self.origin, &self.partitions[p], record, now);
            }
        }
    }
}

#[async_trait]
impl Source for GeneratorSource {
    async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        let started = *self.started.get_or_insert_with(tokio::time::Instant::now);
        if self.batcher.is_none() {
            self.batcher = Some(PartitionBatcher::new(*limits));
        }
        loop {
            let now = tokio::time::Instant::now();
            let Some(batcher) = &mut self.batcher else {
                return Ok(None);
            };
            if let Some(batch) = batcher.pop(now) {
                return Ok(Some(batch));
            }
            if self.next >= self.count {
                return Ok(batcher.flush());
            }
            let until = if self.rate > 0.0 {
                // Wake for the next record or the oldest batch's window.
                let due = started + Duration::from_secs_f64((self.next + 1) as f64 / self.rate);
                let wake = batcher.deadline().map_or(due, |d| d.min(due));
                if wake > now {
                    tokio::time::sleep_until(wake).await;
                    continue;
                }
                let due_now = (started.elapsed().as_secs_f64() * self.rate) as u64;
                due_now.clamp(self.next + 1, self.count)
            } else {
                (self.next + limits.max_records as u64).min(self.count)
            };
            self.generate(until, now);
        }
    }

    async fn resume(&mut self, partition: &str, position: &Position) -> Result<(), SourceError> {
        let slot = self.partitions.iter().position(|p| &**p == partition);
        match (slot, position) {
            (Some(p), Position::Offset(last)) => {
                // Records are regenerated (deterministically); those up to
                // the checkpoint are skipped.
                self.resume_after[p] = Some(*last);
                Ok(())
            }
            _ => Err(SourceError::new(
                self.describe(),
                format!("cannot resume partition `{partition}` at `{position}`"),
            )),
        }
    }

    fn describe(&self) -> String {
        match self.partitions.len() {
            1 => format!("generator {} seed {}", self.origin, self.seed),
            n => format!(
                "generator {} seed {} partitions {n}",
                self.origin, self.seed
            ),
        }
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

/// The `generator` source, for a [`Registry`](super::Registry).
#[derive(Debug, Clone, Copy, Default)]
pub struct GeneratorConnector;

impl SourceConnector for GeneratorConnector {
    type Options = Options;

    fn check(&self, o: &Options) -> Result<(), String> {
        if !(o.rate >= 0.0 && o.rate.is_finite()) {
            return Err(format!(
                "`rate` must be a non-negative number, got {}",
                o.rate
            ));
        }
        if !(1..=1024).contains(&o.partitions) {
            return Err(format!(
                "`partitions` must be between 1 and 1024, got {}",
                o.partitions
            ));
        }
        if o.hot_engines > 0 && !matches!(o.workload, WorkloadName::Telemetry) {
            return Err("`hot_engines` applies to the telemetry workload only".to_string());
        }
        if o.hot_engines as usize > VEHICLES {
            return Err(format!(
                "`hot_engines` must be at most {VEHICLES} (the vehicles of the telemetry \
                 workload), got {}",
                o.hot_engines
            ));
        }
        Ok(())
    }

    fn build(&self, o: Options, _ctx: &ConnectorContext<'_>) -> Result<Box<dyn Source>, String> {
        Ok(Box::new(
            GeneratorSource::with_partitions(
                o.workload.into(),
                o.seed,
                o.count,
                o.rate,
                o.partitions,
            )
            .with_hot_engines(o.hot_engines),
        ))
    }
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

    #[test]
    fn hot_engines_is_off_by_default_and_checked() -> Result<(), serde_json::Error> {
        let check = |v: serde_json::Value| -> Result<Result<(), String>, serde_json::Error> {
            let o: Options = serde_json::from_value(v)?;
            Ok(GeneratorConnector.check(&o))
        };
        let o: Options = serde_json::from_value(serde_json::json!({"workload": "telemetry"}))?;
        assert_eq!(o.hot_engines, 0);
        let telemetry = |n: u32| serde_json::json!({"workload": "telemetry", "hot_engines": n});
        assert_eq!(check(telemetry(0))?, Ok(()));
        assert_eq!(check(telemetry(3))?, Ok(()));
        assert_eq!(check(telemetry(50))?, Ok(()));
        assert_eq!(
            check(telemetry(51))?,
            Err(
                "`hot_engines` must be at most 50 (the vehicles of the telemetry workload), got 51"
                    .to_string()
            )
        );
        assert_eq!(
            check(serde_json::json!({"workload": "race", "hot_engines": 1}))?,
            Err("`hot_engines` applies to the telemetry workload only".to_string())
        );
        assert_eq!(check(serde_json::json!({"hot_engines": 0}))?, Ok(()));
        Ok(())
    }

    #[tokio::test]
    async fn hot_engines_change_only_telemetry_and_only_from_the_middle() -> Result<(), SourceError>
    {
        let limits = BatchLimits::default();
        for (workload, n) in [
            (Workload::Telemetry, 0),
            (Workload::Transactions, 3),
            (Workload::Race, 3),
        ] {
            let plain = drain(&mut GeneratorSource::new(workload, 5, 2_000, 0.0), &limits).await?;
            let mut source = GeneratorSource::new(workload, 5, 2_000, 0.0).with_hot_engines(n);
            assert_eq!(drain(&mut source, &limits).await?, plain, "{workload:?}");
        }
        // Every vehicle hot: the first half of the run is unchanged, the
        // second half has the same keys and timestamps, warmer engines.
        let plain = drain(
            &mut GeneratorSource::new(Workload::Telemetry, 5, 6_000, 0.0),
            &limits,
        )
        .await?;
        let mut source =
            GeneratorSource::new(Workload::Telemetry, 5, 6_000, 0.0).with_hot_engines(50);
        let hot = drain(&mut source, &limits).await?;
        assert_eq!(hot.len(), 6_000);
        assert_eq!(hot[..3_000], plain[..3_000]);
        let differ = hot[3_000..]
            .iter()
            .zip(&plain[3_000..])
            .filter(|(h, p)| {
                assert_eq!((&h.key, h.timestamp_ms), (&p.key, p.timestamp_ms));
                h.value != p.value
            })
            .count();
        assert!(differ > 2_500, "{differ} of 3000 records differ");
        Ok(())
    }

    #[tokio::test]
    async fn partitions_have_their_own_offsets_and_resume_each() -> Result<(), SourceError> {
        let limits = BatchLimits {
            max_records: 7,
            ..BatchLimits::default()
        };
        let mut whole = GeneratorSource::with_partitions(Workload::Transactions, 3, 300, 0.0, 3);
        let mut by_partition: std::collections::BTreeMap<String, Vec<Record>> =
            std::collections::BTreeMap::new();
        while let Some(b) = whole.next_batch(&limits).await? {
            assert!(b.records.len() <= 7);
            by_partition
                .entry(b.partition.to_string())
                .or_default()
                .extend(b.records);
        }
        assert_eq!(by_partition.len(), 3);
        assert_eq!(by_partition.values().map(Vec::len).sum::<usize>(), 300);
        for records in by_partition.values() {
            let offsets: Vec<Position> = records.iter().map(|r| r.position.clone()).collect();
            let want: Vec<Position> = (0..records.len() as u64).map(Position::Offset).collect();
            assert_eq!(offsets, want, "each partition counts its own offsets");
        }
        // Resuming partition 1 after its offset 9 and partition 2 after 0.
        let mut resumed = GeneratorSource::with_partitions(Workload::Transactions, 3, 300, 0.0, 3);
        resumed.resume("1", &Position::Offset(9)).await?;
        resumed.resume("2", &Position::Offset(0)).await?;
        let mut rest: std::collections::BTreeMap<String, Vec<Record>> =
            std::collections::BTreeMap::new();
        while let Some(b) = resumed.next_batch(&limits).await? {
            rest.entry(b.partition.to_string())
                .or_default()
                .extend(b.records);
        }
        for (p, skip) in [("0", 0), ("1", 10), ("2", 1)] {
            assert_eq!(rest[p], by_partition[p][skip..].to_vec(), "partition {p}");
        }
        assert!(resumed.resume("7", &Position::Offset(0)).await.is_err());
        Ok(())
    }
}
