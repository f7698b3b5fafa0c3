//! The counters of one pipeline: registered once in its [`Metrics`],
//! updated by the intake, the stages and the deliveries, and read back for
//! the run summary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::metrics::{Buckets, Counter, Gauge, Histogram, Latency, Metrics, names};

use super::progress::RunSummary;

/// The series of one stage.
#[derive(Clone)]
pub(crate) struct StageCounters {
    pub(crate) records_out: Counter,
    pub(crate) dropped: Counter,
    pub(crate) failed: Counter,
    pub(crate) traps: Counter,
    pub(crate) retries: Counter,
    pub(crate) splits: Counter,
    /// Exported for aggregator stages only.
    pub(crate) windows_closed: Counter,
    pub(crate) call_seconds: Latency,
    pub(crate) reloads: Counter,
    pub(crate) reloads_refused: Counter,
    pub(crate) shadow_records: Counter,
    pub(crate) shadow_differing: Counter,
    pub(crate) plugin_info: Arc<PluginInfo>,
}

/// The info series of the plugin version a stage serves
/// ([`names::STAGE_PLUGIN_INFO`]).
pub(crate) struct PluginInfo {
    metrics: Metrics,
    pipeline: String,
    stage: String,
    /// The labels shown: plugin, version, digest.
    shown: Mutex<Option<[String; 3]>>,
}

impl PluginInfo {
    /// Shows `plugin` version `version` with `digest`, in place of the
    /// version shown before.
    pub(crate) fn show(&self, plugin: &str, version: u64, digest: &str) {
        let mut shown = self.shown.lock().unwrap_or_else(PoisonError::into_inner);
        let labels = |l: &[String; 3]| {
            [
                ("pipeline", self.pipeline.clone()),
                ("stage", self.stage.clone()),
                ("plugin", l[0].clone()),
                ("version", l[1].clone()),
                ("digest", l[2].clone()),
            ]
        };
        if let Some(old) = shown.take() {
            let old = labels(&old);
            let old: Vec<(&str, &str)> = old.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.metrics.remove_gauge(names::STAGE_PLUGIN_INFO, &old);
        }
        let new = [plugin.to_string(), version.to_string(), digest.to_string()];
        let l = labels(&new);
        let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.metrics
            .gauge(
                names::STAGE_PLUGIN_INFO,
                "The plugin version a stage serves (always 1).",
                &l,
            )
            .set(1.0);
        *shown = Some(new);
    }
}

/// The series of one sink.
#[derive(Clone)]
pub(crate) struct SinkCounters {
    pub(crate) records: Counter,
    pub(crate) retries: Counter,
    pub(crate) write_seconds: Latency,
}

/// Every series of a pipeline.
pub(crate) struct PipelineCounters {
    pub(crate) records_in: Counter,
    pub(crate) batches: Counter,
    pub(crate) batch_records: Histogram,
    pub(crate) filtered: Counter,
    pub(crate) expired: Counter,
    pub(crate) records_out: Counter,
    pub(crate) scored: Counter,
    pub(crate) dead_letters: Counter,
    pub(crate) in_flight_bytes: Gauge,
    /// The stages', in chain order.
    pub(crate) stages: Vec<StageCounters>,
    /// The sinks', the failure destination's included.
    pub(crate) sinks: BTreeMap<String, SinkCounters>,
}

impl PipelineCounters {
    /// Registers the series of pipeline `name` with these stages (name,
    /// whether it has windows) and sinks.
    pub(crate) fn new<'a>(
        metrics: &Metrics,
        name: &str,
        stages: impl IntoIterator<Item = (&'a str, bool)>,
        sinks: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let pl = [("pipeline", name)];
        let counter = |metric, help| metrics.counter(metric, help, &pl);
        let stages = stages
            .into_iter()
            .map(|(stage, windowed)| {
                let l = [("pipeline", name), ("stage", stage)];
                let counter = |metric, help| metrics.counter(metric, help, &l);
                StageCounters {
                    records_out: counter(names::STAGE_RECORDS_OUT, "Records a stage emitted."),
                    dropped: counter(names::RECORDS_DROPPED, "Records a filter stage dropped."),
                    failed: counter(
                        names::STAGE_RECORDS_FAILED,
                        "Records that failed in a stage.",
                    ),
                    traps: counter(
                        names::STAGE_TRAPS,
                        "Plugin calls that failed (trap, deadline, error).",
                    ),
                    retries: counter(names::STAGE_RETRIES, "Retries of failed plugin calls."),
                    splits: counter(
                        names::STAGE_SPLITS,
                        "Failed batches split in two to isolate failing records.",
                    ),
                    windows_closed: if windowed {
                        counter(names::WINDOWS_CLOSED, "Windows an aggregator stage closed.")
                    } else {
                        Counter::default()
                    },
                    call_seconds: Latency::new(metrics.histogram(
                        names::STAGE_CALL_SECONDS,
                        "Plugin call latency in seconds.",
                        Buckets::Seconds,
                        &l,
                    )),
                    reloads: counter(
                        names::STAGE_RELOADS,
                        "Plugin versions swapped into a stage (reloads and rollbacks).",
                    ),
                    reloads_refused: counter(
                        names::STAGE_RELOADS_REFUSED,
                        "Reloads a stage refused; the serving version kept serving.",
                    ),
                    shadow_records: counter(
                        names::STAGE_SHADOW_RECORDS,
                        "Records a shadow candidate ran on beside the serving version.",
                    ),
                    shadow_differing: counter(
                        names::STAGE_SHADOW_DIFFERING,
                        "Records on which a shadow candidate's outcome differed from the serving version's.",
                    ),
                    plugin_info: Arc::new(PluginInfo {
                        metrics: metrics.clone(),
                        pipeline: name.to_string(),
                        stage: stage.to_string(),
                        shown: Mutex::new(None),
                    }),
                }
            })
            .collect();
        let sinks = sinks
            .into_iter()
            .map(|sink| {
                let l = [("pipeline", name), ("sink", sink)];
                let counters = SinkCounters {
                    records: metrics.counter(
                        names::SINK_RECORDS,
                        "Records a sink acknowledged.",
                        &l,
                    ),
                    retries: metrics.counter(
                        names::SINK_RETRIES,
                        "Retries of failed sink writes.",
                        &l,
                    ),
                    write_seconds: Latency::new(metrics.histogram(
                        names::SINK_WRITE_SECONDS,
                        "Sink write latency in seconds (one batch to one sink, retries included).",
                        Buckets::Seconds,
                        &l,
                    )),
                };
                (sink.to_string(), counters)
            })
            .collect();
        PipelineCounters {
            records_in: counter(names::RECORDS_IN, "Records read from the source."),
            batches: counter(names::BATCHES, "Batches read from the source."),
            batch_records: metrics.histogram(
                names::BATCH_RECORDS,
                "Batches read, by size in records.",
                Buckets::Sizes,
                &pl,
            ),
            filtered: counter(
                names::RECORDS_FILTERED,
                "Records the filter patterns skipped.",
            ),
            expired: counter(
                names::RECORDS_EXPIRED,
                "Records older than max_record_age, sent to the failure destination.",
            ),
            records_out: counter(
                names::RECORDS_OUT,
                "Records that reached the end of the stages.",
            ),
            scored: counter(names::RECORDS_SCORED, "Records out with a score."),
            dead_letters: counter(
                names::DEAD_LETTERS,
                "Records written to the failure destination.",
            ),
            in_flight_bytes: metrics.gauge(
                names::IN_FLIGHT_BYTES,
                "Record bytes read and not yet written by every sink (bounded by max_in_flight_mb).",
                &pl,
            ),
            stages,
            sinks,
        }
    }

    /// The counts so far, as a summary (without `resumed` and `elapsed`).
    pub(crate) fn totals(&self) -> RunSummary {
        RunSummary {
            records_in: self.records_in.get(),
            filtered: self.filtered.get(),
            dropped: self.stages.iter().map(|s| s.dropped.get()).sum(),
            records_out: self.records_out.get(),
            scored: self.scored.get(),
            failed: self.dead_letters.get(),
            written: self
                .sinks
                .iter()
                .map(|(name, s)| (name.clone(), s.records.get()))
                .filter(|(_, n)| *n > 0)
                .collect(),
            batches: self.batches.get(),
            ..RunSummary::default()
        }
    }

    /// The series of sink `name`, or ones that are not exported.
    pub(crate) fn sink(&self, name: &str) -> SinkCounters {
        self.sinks.get(name).cloned().unwrap_or(SinkCounters {
            records: Counter::default(),
            retries: Counter::default(),
            write_seconds: Latency::default(),
        })
    }
}

impl RunSummary {
    /// The counts between `start` and `self` (both from
    /// [`PipelineCounters::totals`]).
    pub(crate) fn since(mut self, start: &RunSummary) -> RunSummary {
        self.records_in = self.records_in.saturating_sub(start.records_in);
        self.filtered = self.filtered.saturating_sub(start.filtered);
        self.dropped = self.dropped.saturating_sub(start.dropped);
        self.records_out = self.records_out.saturating_sub(start.records_out);
        self.scored = self.scored.saturating_sub(start.scored);
        self.failed = self.failed.saturating_sub(start.failed);
        self.batches = self.batches.saturating_sub(start.batches);
        for (sink, n) in &mut self.written {
            *n = n.saturating_sub(start.written.get(sink).copied().unwrap_or(0));
        }
        self.written.retain(|_, n| *n > 0);
        self
    }
}
