//! Lanes: the workers that process a partition's batches.
//!
//! Each partition has `parallelization_factor` lanes. A batch is split by
//! a hash of each record's key (records without a key by their position),
//! so all records of one key go to the same lane, and a lane processes its
//! share of each batch in order: records with the same key are processed,
//! written and checkpointed in source order, while different keys proceed
//! in parallel. A lane reports each finished share to the pipeline, which
//! moves the checkpoint over batches whose every share is done.

use std::collections::HashMap;
use std::hash::Hasher as _;
use std::sync::Arc;

use futures::StreamExt as _;
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::pattern::hash::FastHasher;
use crate::record::{Batch, Position, Record};

use super::PipelineError;
use super::counters::PipelineCounters;
use super::deliver::Delivery;
use super::stages::StageChain;
use crate::record::DeadLetter;

/// One lane's share of a batch.
pub(crate) struct Work {
    pub(crate) seq: u64,
    pub(crate) batch: Batch,
    /// Records that failed before any stage (too old).
    pub(crate) failed: Vec<DeadLetter>,
}

/// A lane finished a share.
pub(crate) struct Done {
    pub(crate) partition: Arc<str>,
    pub(crate) seq: u64,
    pub(crate) tags: Vec<u64>,
    pub(crate) result: Result<(), PipelineError>,
}

/// What every lane shares.
pub(crate) struct Shared {
    pub(crate) chain: Arc<StageChain>,
    pub(crate) delivery: Delivery,
    pub(crate) counters: Arc<PipelineCounters>,
}

/// The lanes of every partition, started on first use.
pub(crate) struct Lanes {
    shared: Arc<Shared>,
    workers: HashMap<(Arc<str>, usize), mpsc::UnboundedSender<Work>>,
    done: mpsc::UnboundedSender<Done>,
    tasks: tokio::task::JoinSet<()>,
}

/// The lane of `record` among `lanes`.
pub(crate) fn lane_of(record: &Record, lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let mut h = FastHasher::default();
    match (&record.key, &record.position) {
        (Some(key), _) => {
            h.write_u8(1);
            h.write(key);
        }
        (None, Position::Offset(o)) => h.write_u64(*o),
        (None, Position::Sequence(s)) => h.write(s.as_bytes()),
    }
    (h.finish() % lanes as u64) as usize
}

/// Splits `records` into `lanes` shares, each in source order.
pub(crate) fn split(records: Vec<Record>, lanes: usize) -> Vec<Vec<Record>> {
    if lanes <= 1 {
        return vec![records];
    }
    let mut shares: Vec<Vec<Record>> = (0..lanes).map(|_| Vec::new()).collect();
    for r in records {
        let lane = lane_of(&r, lanes);
        if let Some(share) = shares.get_mut(lane) {
            share.push(r);
        }
    }
    shares
}

impl Lanes {
    pub(crate) fn new(shared: Arc<Shared>, done: mpsc::UnboundedSender<Done>) -> Self {
        Lanes {
            shared,
            workers: HashMap::new(),
            done,
            tasks: tokio::task::JoinSet::new(),
        }
    }

    /// Queues `work` on lane `lane` of its partition.
    pub(crate) fn send(&mut self, lane: usize, work: Work) {
        let key = (work.batch.partition.clone(), lane);
        let tx = self.workers.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            self.tasks.spawn(
                worker(self.shared.clone(), rx, self.done.clone())
                    .instrument(tracing::Span::current()),
            );
            tx
        });
        if let Err(mpsc::error::SendError(work)) = tx.send(work) {
            // The worker is gone (its task panicked): report the share as
            // failed so the pipeline stops without committing past it.
            let _ = self.done.send(Done {
                partition: work.batch.partition.clone(),
                seq: work.seq,
                tags: Vec::new(),
                result: Err(PipelineError::Internal("a lane worker stopped".into())),
            });
        }
    }

    /// Stops taking work; the lanes finish what they have. An error if a
    /// lane worker died (its unfinished batches are never checkpointed).
    pub(crate) async fn close(mut self) -> Result<(), PipelineError> {
        self.workers.clear();
        let mut result = Ok(());
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = joined {
                result = Err(PipelineError::Internal(format!(
                    "a lane worker failed: {e}"
                )));
            }
        }
        result
    }
}

/// Batches a lane has written but not yet seen acknowledged: while the
/// sinks confirm one batch, the lane runs the stages of the next ones.
const DELIVERIES_IN_FLIGHT: usize = 4;

async fn worker(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Work>,
    done: mpsc::UnboundedSender<Done>,
) {
    // Completed in the order they were started, so the pipeline hears of
    // a lane's batches in order. A delivery is polled (and so hands its
    // records to the sinks) before the next batch's stages run, which keeps
    // the sinks' write order the lane's order.
    let mut inflight = futures::stream::FuturesOrdered::new();
    loop {
        tokio::select! {
            biased;
            Some(report) = inflight.next(), if !inflight.is_empty() => {
                if done.send(report).is_err() {
                    return;
                }
            }
            work = rx.recv(), if inflight.len() < DELIVERIES_IN_FLIGHT => match work {
                // The stages run here, one share after the other; only the
                // writes overlap.
                Some(work) => match stage(&shared, work).await {
                    Ok(staged) => inflight.push_back(futures::future::Either::Left(deliver(shared.clone(), staged))),
                    Err(report) => inflight.push_back(futures::future::Either::Right(std::future::ready(report))),
                },
                None => break,
            },
        }
    }
    while let Some(report) = inflight.next().await {
        if done.send(report).is_err() {
            return;
        }
    }
}

/// Runs the stages of one share; `Err` is its report when they could not
/// run at all.
async fn stage(shared: &Shared, work: Work) -> Result<Staged, Done> {
    let Work {
        seq,
        batch,
        mut failed,
    } = work;
    let (origin, partition) = (batch.origin.clone(), batch.partition.clone());
    let chain = shared.chain.clone();
    let span = tracing::Span::current();
    let out = match tokio::task::spawn_blocking(move || span.in_scope(|| chain.run(batch))).await {
        Ok(out) => out,
        Err(e) => {
            return Err(Done {
                partition,
                seq,
                tags: Vec::new(),
                result: Err(PipelineError::Internal(format!("stage worker failed: {e}"))),
            });
        }
    };
    let counters = &shared.counters;
    counters.records_out.inc_by(out.records.len() as u64);
    counters
        .scored
        .inc_by(out.records.iter().filter(|r| r.score.is_some()).count() as u64);
    failed.extend(out.failed);
    Ok(Staged {
        seq,
        origin,
        partition,
        records: out.records,
        failed,
        tags: out.tags,
    })
}

/// A share whose stages ran, waiting to be written.
struct Staged {
    seq: u64,
    origin: Arc<str>,
    partition: Arc<str>,
    records: Vec<Record>,
    failed: Vec<DeadLetter>,
    tags: Vec<u64>,
}

/// Writes a staged share and reports it.
async fn deliver(shared: Arc<Shared>, staged: Staged) -> Done {
    let Staged {
        seq,
        origin,
        partition,
        records,
        failed,
        tags,
    } = staged;
    let result = shared
        .delivery
        .deliver(&origin, &partition, records, failed)
        .await
        .map_err(PipelineError::from);
    Done {
        partition,
        seq,
        tags,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Bytes;

    #[test]
    fn a_key_always_goes_to_the_same_lane_and_order_is_kept() {
        let records: Vec<Record> = (0..100u64)
            .map(|i| Record::new(vec![], Position::Offset(i), 0).with_key(format!("k{}", i % 7)))
            .collect();
        let shares = split(records, 4);
        assert_eq!(shares.iter().map(Vec::len).sum::<usize>(), 100);
        for share in &shares {
            let offsets: Vec<u64> = share
                .iter()
                .map(|r| match r.position {
                    Position::Offset(o) => o,
                    Position::Sequence(_) => 0,
                })
                .collect();
            assert!(offsets.windows(2).all(|w| w[0] < w[1]));
        }
        for k in 0..7 {
            let key = Bytes::from(format!("k{k}"));
            let holding = shares
                .iter()
                .filter(|s| s.iter().any(|r| r.key.as_ref() == Some(&key)))
                .count();
            assert_eq!(holding, 1, "key k{k} is in {holding} lanes");
        }
        assert!(shares.iter().filter(|s| !s.is_empty()).count() > 1);
    }
}
