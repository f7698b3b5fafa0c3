//! What happens to a batch before the lanes: the age limit, the filter
//! patterns and the split into lanes.

use std::sync::Arc;

use crate::connectors::lines::now_ms;
use crate::record::{Batch, Record};

use super::counters::PipelineCounters;
use super::filter::RecordFilter;
use super::lanes::{Lanes, Work, split};
use super::progress::RunState;
use super::tickets::Advance;
use crate::record::DeadLetter;

/// What happens to a batch before the lanes: the age limit, the filter
/// patterns and the split into lanes.
pub(crate) struct Intake {
    pub(crate) name: String,
    pub(crate) filter: Option<RecordFilter>,
    pub(crate) lanes: usize,
    pub(crate) max_age_ms: Option<i64>,
    pub(crate) counters: Arc<PipelineCounters>,
}

impl Intake {
    /// Splits a batch into lane shares and queues them. Returns a checkpoint
    /// advance when nothing of the batch needs a lane.
    pub(crate) fn dispatch(
        &self,
        batch: Batch,
        permit: super::admission::Admission,
        lanes: &mut Lanes,
        run: &mut RunState,
    ) -> Option<Advance> {
        let n = batch.records.len() as u64;
        let last = batch.records.last()?.position.clone();
        self.counters.records_in.inc_by(n);
        self.counters.batches.inc();
        self.counters.batch_records.observe(n as f64);
        let Batch {
            origin,
            partition,
            mut records,
        } = batch;

        let mut expired = Vec::new();
        if let Some(max_age) = self.max_age_ms {
            let now = now_ms();
            let (old, fresh): (Vec<Record>, Vec<Record>) = records
                .into_iter()
                .partition(|r| now.saturating_sub(r.timestamp_ms) > max_age);
            records = fresh;
            if !old.is_empty() {
                tracing::warn!(pipeline = %self.name, partition = %partition, records = old.len(), "records older than max_record_age go to the failure destination");
                self.counters.expired.inc_by(old.len() as u64);
            }
            expired = old
                .into_iter()
                .map(|r| {
                    let age = now.saturating_sub(r.timestamp_ms);
                    DeadLetter::new(
                        r,
                        &origin,
                        &partition,
                        "source",
                        format!("record is {age} ms old, older than max_record_age ({max_age} ms)"),
                        0,
                    )
                })
                .collect();
        }
        if let Some(filter) = &self.filter {
            let before = records.len();
            records.retain(|r| filter.keeps(r, &origin, &partition));
            let skipped = (before - records.len()) as u64;
            self.counters.filtered.inc_by(skipped);
        }
        // Records the patterns skipped count as done: the checkpoint still
        // moves past them.
        let mut shares: Vec<(usize, Vec<Record>)> = split(records, self.lanes)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty())
            .collect();
        if shares.is_empty() && !expired.is_empty() {
            shares.push((0, Vec::new()));
        }
        let seq = run
            .tickets
            .open(&partition, last, shares.len(), Some(permit));
        if shares.is_empty() {
            return run.tickets.retire(&partition);
        }
        for (i, (lane, records)) in shares.into_iter().enumerate() {
            let failed = if i == 0 {
                std::mem::take(&mut expired)
            } else {
                Vec::new()
            };
            lanes.send(
                lane,
                Work {
                    seq,
                    batch: Batch {
                        origin: origin.clone(),
                        partition: partition.clone(),
                        records,
                    },
                    failed,
                },
            );
        }
        None
    }
}
