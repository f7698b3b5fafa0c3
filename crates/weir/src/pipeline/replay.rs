//! Replaying dead letters: their records re-driven through the current
//! version of the stage that failed them, and the stages after it, to the
//! pipeline's sinks.
//!
//! A replay runs the pipeline of a config with its sinks, state and
//! failure destination, but reads the dead letters instead of the source,
//! and starts each record at the stage that failed it. Records that pass
//! reach the sinks once; records that fail again become dead letters
//! again, with the new version's context. Letters of a sink that did not
//! take a record (`sink:NAME`) or of a record too old to process
//! (`source`) are not replayed (counted as `not_replayable`). Run it while
//! the pipeline is stopped: the data directory's state store is opened
//! exclusively.

use std::collections::{BTreeMap, VecDeque};

use async_trait::async_trait;

use crate::connectors::Registry;
use crate::metrics::Metrics;
use crate::plugin::Engine;
use crate::record::{Batch, DeadLetter, Position};
use crate::source::{BatchLimits, Source, SourceError};

use super::PipelineError;
use super::config::PipelineConfig;
use super::run::Pipeline;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ReplaySummary {
    /// Dead letters read.
    pub letters: u64,
    /// Records re-driven through their stage.
    pub replayed: u64,
    /// Of those, records that passed (written to the sinks or dropped by a
    /// filter).
    pub passed: u64,
    /// Of those, records that failed again (written to the failure
    /// destination again).
    pub failed_again: u64,
    /// Letters of sinks, of the source, or of stages the config does not
    /// have.
    pub not_replayable: u64,
    /// Replayed records per stage.
    pub per_stage: BTreeMap<String, u64>,
}

/// The records of one stage's dead letters, one batch per partition.
struct Letters {
    batches: VecDeque<Batch>,
    name: String,
}

#[async_trait]
impl Source for Letters {
    async fn next_batch(&mut self, _limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
        Ok(self.batches.pop_front())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

fn order(p: &Position) -> (u64, &str) {
    match p {
        Position::Offset(o) => (*o, ""),
        Position::Sequence(s) => (0, s),
    }
}

impl Pipeline {
    /// Replays `letters` through the pipeline of `config` (see the module
    /// docs): each record from the current version of the stage that
    /// failed it on, to the pipeline's sinks.
    pub async fn replay(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
        metrics: Metrics,
        letters: Vec<DeadLetter>,
    ) -> Result<ReplaySummary, PipelineError> {
        let mut summary = ReplaySummary {
            letters: letters.len() as u64,
            ..ReplaySummary::default()
        };
        // Stage → partition → records, in stage order.
        let mut groups: BTreeMap<usize, BTreeMap<(String, String), Vec<crate::Record>>> =
            BTreeMap::new();
        for l in letters {
            match config.stages.iter().position(|s| s.name == l.stage) {
                Some(i) => groups
                    .entry(i)
                    .or_default()
                    .entry((l.origin, l.partition))
                    .or_default()
                    .push(l.record),
                None => summary.not_replayable += 1,
            }
        }
        for (i, partitions) in groups {
            let stage = config
                .stages
                .get(i)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let mut batches = VecDeque::new();
            let mut count = 0u64;
            for ((origin, partition), mut records) in partitions {
                records.sort_by(|a, b| order(&a.position).cmp(&order(&b.position)));
                count += records.len() as u64;
                batches.push_back(Batch::new(origin.as_str(), partition.as_str(), records));
            }
            let source = Letters {
                batches,
                name: format!("replay of dead letters of stage `{stage}`"),
            };
            let pipeline = Self::build_from(
                config,
                engine,
                registry,
                metrics.clone(),
                Some((Box::new(source), i)),
            )?;
            let run = pipeline.run(std::future::pending()).await?;
            summary.replayed += count;
            summary.failed_again += run.failed;
            summary.passed += count.saturating_sub(run.failed);
            summary.per_stage.insert(stage, count);
        }
        Ok(summary)
    }
}
