//! The monitor's sampler: once per period it reads the pipeline's counters
//! into one point of its series, evaluates the alarms, and sends their
//! notifications to the alarms' sinks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::metrics::{Counter, Gauge, Latency, LatencyCounts, Metrics, names};
use crate::monitor::{AlarmEvent, Measure, Monitor, Scope, SeriesKey};
use crate::record::{Position, Record};
use crate::sink::Sink;

use super::counters::PipelineCounters;

/// How long one alarm notification may take to write.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// Notifications being written at once; more are dropped (and counted).
const NOTIFY_IN_FLIGHT: usize = 16;

/// The counters' values at one moment.
struct Reading {
    at: Instant,
    records_in: u64,
    records_out: u64,
    written: u64,
    filtered: u64,
    failed: u64,
    dead_letters: u64,
    stages: Vec<LatencyCounts>,
    sinks: Vec<LatencyCounts>,
}

/// The series of one alarm, in the metrics.
struct AlarmSeries {
    raised: Gauge,
    count: Counter,
    failed: Counter,
    to: Vec<(String, Arc<dyn Sink>)>,
}

/// Samples a pipeline's series: see the module docs.
pub(crate) struct Sampler {
    pub(crate) monitor: Monitor,
    pub(crate) counters: Arc<PipelineCounters>,
    /// Where connectors report lag (scoped to the pipeline).
    pub(crate) metrics: Metrics,
    pub(crate) pipeline: String,
    /// The stages' names, in chain order.
    pub(crate) stages: Vec<String>,
    /// The failure destination's name (not counted as written).
    pub(crate) dead_letters: String,
    /// The pipeline's sinks, for alarm notifications.
    pub(crate) sinks: BTreeMap<String, Arc<dyn Sink>>,
}

/// Stops the sampler when dropped.
pub(crate) struct Sampling(Option<tokio::task::JoinHandle<()>>);

impl Drop for Sampling {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

fn per_second(now: u64, before: u64, secs: f64) -> Option<f64> {
    (secs > 0.0).then(|| now.saturating_sub(before) as f64 / secs)
}

impl Sampler {
    /// The series of a pipeline with these stages and sinks.
    pub(crate) fn keys<'a>(
        stages: impl IntoIterator<Item = &'a str>,
        sinks: impl IntoIterator<Item = &'a str>,
    ) -> Vec<SeriesKey> {
        let mut keys: Vec<SeriesKey> = Measure::ALL
            .into_iter()
            .filter(|m| m.scope() == Scope::Pipeline)
            .map(|measure| SeriesKey {
                measure,
                stage: None,
                sink: None,
            })
            .collect();
        for stage in stages {
            for measure in [Measure::LatencyP50, Measure::LatencyP99] {
                keys.push(SeriesKey {
                    measure,
                    stage: Some(stage.to_string()),
                    sink: None,
                });
            }
        }
        for sink in sinks {
            keys.push(SeriesKey {
                measure: Measure::WriteP99,
                stage: None,
                sink: Some(sink.to_string()),
            });
        }
        keys
    }

    fn read(&self) -> Reading {
        let c = &self.counters;
        Reading {
            at: Instant::now(),
            records_in: c.records_in.get(),
            records_out: c.records_out.get(),
            written: c
                .sinks
                .iter()
                .filter(|(name, _)| **name != self.dead_letters)
                .map(|(_, s)| s.records.get())
                .sum(),
            filtered: c.filtered.get() + c.stages.iter().map(|s| s.dropped.get()).sum::<u64>(),
            failed: c.stages.iter().map(|s| s.failed.get()).sum(),
            dead_letters: c.dead_letters.get(),
            stages: c.stages.iter().map(|s| s.call_seconds.counts()).collect(),
            sinks: c.sinks.values().map(|s| s.write_seconds.counts()).collect(),
        }
    }

    /// The value of each of `keys` between two readings.
    fn values(&self, keys: &[SeriesKey], before: &Reading, now: &Reading) -> Vec<Option<f64>> {
        let secs = now.at.duration_since(before.at).as_secs_f64();
        let read_in = now.records_in.saturating_sub(before.records_in);
        let failed = now.failed.saturating_sub(before.failed);
        let pipeline = [("pipeline", self.pipeline.as_str())];
        let lags = self
            .metrics
            .gauge_values(names::KAFKA_CONSUMER_LAG, &pipeline);
        let ages = self
            .metrics
            .gauge_values(names::KINESIS_ITERATOR_AGE, &pipeline);
        // A percentile of what the `i`th stage or sink did in between.
        let percentile = |of: fn(&Reading) -> &[LatencyCounts], i: Option<usize>, q| {
            let i = i?;
            Latency::percentile(of(before).get(i)?, of(now).get(i)?, q)
        };
        keys.iter()
            .map(|k| {
                let stage = k
                    .stage
                    .as_ref()
                    .and_then(|s| self.stages.iter().position(|n| n == s));
                let sink = k
                    .sink
                    .as_ref()
                    .and_then(|s| self.counters.sinks.keys().position(|n| n == s));
                match k.measure {
                    Measure::RecordsIn => per_second(now.records_in, before.records_in, secs),
                    Measure::RecordsOut => per_second(now.records_out, before.records_out, secs),
                    Measure::Written => per_second(now.written, before.written, secs),
                    Measure::Filtered => per_second(now.filtered, before.filtered, secs),
                    Measure::Failed => per_second(now.failed, before.failed, secs),
                    Measure::DeadLetters => per_second(now.dead_letters, before.dead_letters, secs),
                    Measure::ErrorRatio => {
                        (read_in > 0).then(|| (failed as f64 / read_in as f64).min(1.0))
                    }
                    Measure::InFlightBytes => Some(self.counters.in_flight_bytes.get()),
                    Measure::Lag => (!lags.is_empty()).then(|| lags.iter().sum()),
                    Measure::IteratorAge => ages.iter().copied().reduce(f64::max),
                    Measure::LatencyP50 => percentile(|r| &r.stages, stage, 0.5),
                    Measure::LatencyP99 => percentile(|r| &r.stages, stage, 0.99),
                    Measure::WriteP99 => percentile(|r| &r.sinks, sink, 0.99),
                }
            })
            .collect()
    }

    /// Starts sampling on the current tokio runtime, until the returned
    /// guard is dropped.
    pub(crate) fn start(self) -> Sampling {
        let period = self.monitor.settings().period.0;
        let alarms: BTreeMap<String, AlarmSeries> = self
            .monitor
            .alarms()
            .into_iter()
            .map(|a| {
                let labels = [
                    ("pipeline", self.pipeline.as_str()),
                    ("alarm", &a.config.name),
                ];
                let m = &self.metrics;
                let series = AlarmSeries {
                    raised: m.gauge(
                        names::ALARM_RAISED,
                        "Whether an alarm is raised (1) or not (0).",
                        &labels,
                    ),
                    count: m.counter(names::ALARMS_RAISED, "Times an alarm was raised.", &labels),
                    failed: m.counter(
                        names::ALARM_NOTIFICATIONS_FAILED,
                        "Alarm notifications that could not be written to the alarm's sinks.",
                        &labels,
                    ),
                    to: a
                        .config
                        .to
                        .iter()
                        .filter_map(|s| Some((s.clone(), self.sinks.get(s)?.clone())))
                        .collect(),
                };
                (a.config.name, series)
            })
            .collect();
        let writing = Arc::new(Semaphore::new(NOTIFY_IN_FLIGHT));
        let span = tracing::Span::current();
        let task = tokio::spawn(
            async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                let keys = self.monitor.keys();
                let mut last = self.read();
                loop {
                    tick.tick().await;
                    let now = self.read();
                    let values = self.values(&keys, &last, &now);
                    last = now;
                    for event in self.monitor.record(SystemTime::now(), &values) {
                        if let Some(series) = alarms.get(&event.alarm) {
                            notify(&self.pipeline, &event, series, &writing);
                        }
                    }
                }
            }
            .instrument(span),
        );
        Sampling(Some(task))
    }
}

/// Logs an alarm event, counts it, and writes it to the alarm's sinks in
/// the background.
fn notify(pipeline: &str, event: &AlarmEvent, series: &AlarmSeries, writing: &Arc<Semaphore>) {
    let json = event.to_json();
    if event.raised {
        series.raised.set(1.0);
        series.count.inc();
        tracing::warn!(pipeline, alarm = %event.alarm, metric = %event.series, value = event.value, "alarm raised: {json}");
    } else {
        series.raised.set(0.0);
        tracing::info!(pipeline, alarm = %event.alarm, metric = %event.series, value = event.value, "alarm cleared: {json}");
    }
    let at = i64::try_from(crate::monitor::millis(event.at)).unwrap_or(i64::MAX);
    for (name, sink) in &series.to {
        let Ok(permit) = writing.clone().try_acquire_owned() else {
            series.failed.inc();
            tracing::warn!(pipeline, alarm = %event.alarm, sink = %name, "alarm notification dropped: too many still being written");
            continue;
        };
        let record =
            Record::new(json.to_string(), Position::Offset(0), at).with_key(event.alarm.clone());
        let (sink, failed, name) = (sink.clone(), series.failed.clone(), name.clone());
        let (pipeline, alarm) = (pipeline.to_string(), event.alarm.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let result = tokio::time::timeout(NOTIFY_TIMEOUT, sink.write(&[record])).await;
            let error = match result {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("not written within {NOTIFY_TIMEOUT:?}"),
            };
            failed.inc();
            tracing::warn!(pipeline, alarm, sink = %name, "alarm notification not written: {error}");
        });
    }
}
