//! Monitoring: a pipeline's own time series, sampled once per period,
//! and alarms over them.
//!
//! Every running pipeline samples, once per [`MonitorSettings::period`]
//! (default 1 s), the series below from its own counters, and keeps the
//! last [`MonitorSettings::history`] points (default 300). They are what
//! the dashboard (`/` on the admin server) charts, what
//! `GET /api/pipelines/{p}/series` answers, and what alarms watch. Reading
//! them costs the pipeline nothing: the sampler reads counters the
//! pipeline keeps anyway, off its hot path.
//!
//! | Metric | Of | Unit | What |
//! |---|---|---|---|
//! | `records_in` | pipeline | records/s | read from the source |
//! | `records_out` | pipeline | records/s | reached the end of the stages |
//! | `written` | pipeline | records/s | acknowledged by the sinks (not the failure destination) |
//! | `filtered` | pipeline | records/s | skipped by patterns or dropped by filter stages |
//! | `failed` | pipeline | records/s | failed in a stage |
//! | `dead_letters` | pipeline | records/s | written to the failure destination |
//! | `error_ratio` | pipeline | 0 to 1 | failed / read, in the period |
//! | `in_flight_bytes` | pipeline | bytes | read and not yet written |
//! | `lag` | pipeline | records | Kafka consumer lag, summed over partitions |
//! | `iterator_age` | pipeline | ms | the largest Kinesis iterator age of the shards |
//! | `latency_p50`, `latency_p99` | stage | s | plugin call latency |
//! | `write_p99` | sink | s | sink write latency |
//!
//! A period in which nothing was measured (no call completed, no record
//! read for a ratio, no lag reported) has no value, and alarms skip it.
//!
//! ## Alarms
//!
//! An alarm ([`AlarmConfig`], `[[alarms]]` in a config file) watches one
//! series. Each period its value is either inside or outside:
//!
//! - **Static thresholds** (`above`, `below`): outside when above `above`
//!   or below `below`.
//! - **A learned band** (neither given): the [`weir_anomaly`] detector
//!   learns the series' normal values from its last `window` periods (the
//!   median, and the median absolute deviation as a spread that outliers do
//!   not inflate) and puts a band `width` robust standard deviations
//!   around it, at least `min_spread` (in the metric's unit) and
//!   `relative_spread` times the median wide. Because it learns from the
//!   recent past, it follows a lasting level shift: after about half a
//!   window the new level is normal. Until `warmup` periods are seen the
//!   alarm is `learning`. `direction` says which side counts: `both`,
//!   `above` or `below`.
//!
//! The alarm is **raised** when `raise_after` of the last `periods`
//! periods were outside, and **cleared** when as many were inside (M of N,
//! as CloudWatch alarms evaluate). Each change is an [`AlarmEvent`]: kept
//! for the admin API and the dashboard, counted in
//! [`ALARMS_RAISED`](crate::metrics::names::ALARMS_RAISED) and
//! [`ALARM_RAISED`](crate::metrics::names::ALARM_RAISED), logged, and
//! written as a JSON record to each sink named in `to` (any sink of the
//! pipeline: a file, a webhook, a Kafka topic, a Kinesis stream):
//!
//! ```json
//! {"pipeline": "fraud", "alarm": "failures", "state": "raised",
//!  "metric": "error_ratio", "unit": "ratio", "stage": null, "sink": null,
//!  "value": 0.21, "band": {"low": 0.0, "center": 0.0, "high": 0.0},
//!  "above": null, "below": null, "at_ms": 1765000000000, "period_ms": 1000}
//! ```
//!
//! A sink named in `to` gets alarm notifications only (no records), unless
//! a route names it. A notification that cannot be written within 10 s is
//! dropped and counted in
//! [`ALARM_NOTIFICATIONS_FAILED`](crate::metrics::names::ALARM_NOTIFICATIONS_FAILED):
//! a failing alarm sink never holds up the pipeline.
//!
//! ```toml
//! [monitor]
//! period = "1s"     # sampling period (100 ms to 1 h)
//! history = 300     # points kept per series (10 to 100000)
//!
//! [[alarms]]
//! name = "failures"
//! metric = "error_ratio"
//! above = 0.05      # a static threshold
//! to = "alerts"
//!
//! [[alarms]]
//! name = "slow-scorer"
//! metric = "latency_p50"
//! stage = "score"
//! direction = "above"   # a learned band: window = 60, warmup = 10,
//! raise_after = 3       # width = 3.0, relative_spread = 0.1,
//! periods = 5           # min_spread = 0.0 by default
//! to = ["alerts", "pager"]
//! ```

mod alarm;
mod series;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use alarm::{AlarmConfig, AlarmEvent, AlarmState, AlarmStatus, Side};
pub(crate) use alarm::{AlarmRule, band_json};
pub use series::{Measure, Scope, SeriesKey};
pub use weir_anomaly;

/// Alarm events kept for the admin API.
pub const KEPT_EVENTS: usize = 100;

/// Milliseconds since the Unix epoch.
pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn default_period() -> crate::pipeline::ConfigDuration {
    crate::pipeline::ConfigDuration(Duration::from_secs(1))
}
fn default_history() -> usize {
    300
}
fn yes() -> bool {
    true
}

/// How a pipeline samples its series (`[monitor]` in a config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    /// Whether the series are sampled at all (alarms need them).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The sampling period.
    #[serde(default = "default_period")]
    pub period: crate::pipeline::ConfigDuration,
    /// Points kept per series.
    #[serde(default = "default_history")]
    pub history: usize,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            enabled: true,
            period: default_period(),
            history: default_history(),
        }
    }
}

impl MonitorSettings {
    /// No sampling, no alarms.
    pub fn off() -> Self {
        MonitorSettings {
            enabled: false,
            ..MonitorSettings::default()
        }
    }

    /// Sampling every `period`.
    #[must_use]
    pub fn every(mut self, period: Duration) -> Self {
        self.period = crate::pipeline::ConfigDuration(period);
        self
    }

    /// Which key is out of range, and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        let p = self.period.0;
        if p < Duration::from_millis(100) || p > Duration::from_secs(3600) {
            return Err(("period", "must be between 100ms and 1h".into()));
        }
        if !(10..=100_000).contains(&self.history) {
            return Err(("history", "must be between 10 and 100000".into()));
        }
        Ok(())
    }
}

/// The points of a pipeline's series: see [`Monitor::series`].
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSnapshot {
    /// The sampling period.
    pub period: Duration,
    /// When each point was sampled, in ms since the Unix epoch.
    pub times: Vec<u64>,
    /// Each series with its values, one per time (`None`: nothing
    /// measured in that period).
    pub series: Vec<(SeriesKey, Vec<Option<f64>>)>,
}

struct Store {
    times: VecDeque<u64>,
    series: Vec<(SeriesKey, VecDeque<Option<f64>>)>,
    alarms: Vec<AlarmRule>,
    events: VecDeque<AlarmEvent>,
}

struct Inner {
    pipeline: String,
    settings: MonitorSettings,
    store: Mutex<Store>,
}

/// A pipeline's sampled series and alarms, readable from any thread while
/// it runs ([`PipelineControl::monitor`](crate::pipeline::PipelineControl::monitor)).
/// Cheap to clone.
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("pipeline", &self.inner.pipeline)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

impl Monitor {
    /// A monitor of `keys` with `alarms` (each watching one of `keys`).
    pub(crate) fn new(
        pipeline: &str,
        settings: MonitorSettings,
        keys: Vec<SeriesKey>,
        alarms: Vec<AlarmRule>,
    ) -> Self {
        Monitor {
            inner: Arc::new(Inner {
                pipeline: pipeline.to_string(),
                settings,
                store: Mutex::new(Store {
                    times: VecDeque::new(),
                    series: keys.into_iter().map(|k| (k, VecDeque::new())).collect(),
                    alarms,
                    events: VecDeque::new(),
                }),
            }),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How it samples.
    pub fn settings(&self) -> &MonitorSettings {
        &self.inner.settings
    }

    /// The series it samples, in order.
    pub fn keys(&self) -> Vec<SeriesKey> {
        self.store().series.iter().map(|(k, _)| k.clone()).collect()
    }

    /// Adds one point: `values` in the order of [`keys`](Self::keys).
    /// Returns the alarm events it caused.
    pub(crate) fn record(&self, at: SystemTime, values: &[Option<f64>]) -> Vec<AlarmEvent> {
        let history = self.inner.settings.history;
        let period_ms = millis(UNIX_EPOCH + self.inner.settings.period.0);
        let mut store = self.store();
        let Store {
            times,
            series,
            alarms,
            events,
        } = &mut *store;
        times.push_back(millis(at));
        if times.len() > history {
            times.pop_front();
        }
        for ((_, points), value) in series.iter_mut().zip(values) {
            points.push_back(*value);
            if points.len() > history {
                points.pop_front();
            }
        }
        let mut new = Vec::new();
        for rule in alarms.iter_mut() {
            let value = series
                .iter()
                .zip(values)
                .find(|((k, _), _)| *k == rule.series)
                .and_then(|(_, v)| *v);
            if let Some(event) = rule.observe(value, at, &self.inner.pipeline, period_ms) {
                events.push_back(event.clone());
                if events.len() > KEPT_EVENTS {
                    events.pop_front();
                }
                new.push(event);
            }
        }
        new
    }

    /// The points sampled after `since_ms` (ms since the Unix epoch), or
    /// all that are kept.
    pub fn series(&self, since_ms: Option<u64>) -> SeriesSnapshot {
        let store = self.store();
        let skip = since_ms.map_or(0, |s| store.times.iter().take_while(|t| **t <= s).count());
        SeriesSnapshot {
            period: self.inner.settings.period.0,
            times: store.times.iter().skip(skip).copied().collect(),
            series: store
                .series
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().skip(skip).copied().collect()))
                .collect(),
        }
    }

    /// Every alarm and where it stands.
    pub fn alarms(&self) -> Vec<AlarmStatus> {
        self.store().alarms.iter().map(AlarmRule::status).collect()
    }

    /// The last `n` alarm events (at most [`KEPT_EVENTS`]), oldest first.
    pub fn events(&self, n: usize) -> Vec<AlarmEvent> {
        let store = self.store();
        let skip = store.events.len().saturating_sub(n);
        store.events.iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(measure: Measure) -> SeriesKey {
        SeriesKey {
            measure,
            stage: None,
            sink: None,
        }
    }

    #[test]
    fn points_are_kept_up_to_the_history_and_read_since_a_time() {
        let settings = MonitorSettings {
            history: 10,
            ..MonitorSettings::default()
        };
        let keys = vec![key(Measure::RecordsIn), key(Measure::ErrorRatio)];
        let m = Monitor::new("p", settings, keys, Vec::new());
        for i in 0..15u64 {
            let at = UNIX_EPOCH + Duration::from_secs(i);
            assert!(m.record(at, &[Some(i as f64), None]).is_empty());
        }
        let all = m.series(None);
        assert_eq!(all.times, (5..15).map(|s| s * 1000).collect::<Vec<_>>());
        assert_eq!(all.series[0].1.first(), Some(&Some(5.0)));
        assert_eq!(all.series[1].1, vec![None; 10]);
        let newer = m.series(Some(12_000));
        assert_eq!(newer.times, [13_000, 14_000]);
        assert_eq!(newer.series[0].1, [Some(13.0), Some(14.0)]);
    }

    #[test]
    fn a_threshold_alarm_raises_after_m_of_n_and_clears() {
        let config = AlarmConfig::new("errors", Measure::ErrorRatio)
            .above(0.1)
            .raise_after(2, 3);
        let k = key(Measure::ErrorRatio);
        let rule = AlarmRule::new(config, k.clone(), UNIX_EPOCH);
        let m = Monitor::new(
            "p",
            MonitorSettings::default(),
            vec![k],
            rule.into_iter().collect(),
        );
        let mut events = Vec::new();
        for (i, v) in [0.0, 0.5, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0].iter().enumerate() {
            let at = UNIX_EPOCH + Duration::from_secs(i as u64);
            events.extend(m.record(at, &[Some(*v)]));
        }
        let seen: Vec<(bool, f64)> = events.iter().map(|e| (e.raised, e.value)).collect();
        assert_eq!(seen, [(true, 0.5), (false, 0.0)]);
        assert_eq!(events[0].to_json()["metric"], "error_ratio");
        assert_eq!(events[0].to_json()["above"], 0.1);
        assert_eq!(m.alarms()[0].raised, 1);
        assert_eq!(m.alarms()[0].state, AlarmState::Ok);
        assert_eq!(m.events(1), events[1..]);
    }
}
