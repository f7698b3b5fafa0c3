//! Alarms: a rule over one sampled series (a learned band or static
//! thresholds, raised after M of N periods outside), and its state.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use weir_anomaly::{Band, Detector, Direction, Settings, Transition, Trigger};

use super::series::{Measure, Scope, SeriesKey};

/// Which side of the learned band counts as outside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Above or below.
    #[default]
    Both,
    /// Above only (latency, errors, lag).
    Above,
    /// Below only (throughput).
    Below,
}

fn default_width() -> f64 {
    Settings::default().width
}
fn default_window() -> usize {
    Settings::default().window
}
fn default_warmup() -> usize {
    Settings::default().warmup
}
fn default_relative_spread() -> f64 {
    Settings::default().relative_spread
}
fn default_raise_after() -> usize {
    3
}
fn default_periods() -> usize {
    5
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize, Serialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// One alarm of a pipeline (`[[alarms]]` in a config file; see the
/// [module docs](super) for the model and every key).
///
/// Without `above` or `below` the alarm learns a band of normal values of
/// its series; with either, it compares with those static thresholds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    /// Its name, unique in the pipeline.
    pub name: String,
    /// The measure it watches ([`Measure::name`]).
    pub metric: String,
    /// The stage, for stage measures.
    #[serde(default)]
    pub stage: Option<String>,
    /// The sink, for sink measures.
    #[serde(default)]
    pub sink: Option<String>,
    /// Static threshold: outside when the value is above it.
    #[serde(default)]
    pub above: Option<f64>,
    /// Static threshold: outside when the value is below it.
    #[serde(default)]
    pub below: Option<f64>,
    /// Band: which side counts as outside.
    #[serde(default)]
    pub direction: Side,
    /// Band: half-width in robust standard deviations.
    #[serde(default = "default_width")]
    pub width: f64,
    /// Band: periods of history it learns from.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Band: periods before it has a band.
    #[serde(default = "default_warmup")]
    pub warmup: usize,
    /// Band: the smallest half-width, in the measure's unit.
    #[serde(default)]
    pub min_spread: f64,
    /// Band: the smallest half-width, as a fraction of the band's center.
    #[serde(default = "default_relative_spread")]
    pub relative_spread: f64,
    /// Raised when at least this many of the last `periods` were outside
    /// (and cleared when as many were inside).
    #[serde(default = "default_raise_after")]
    pub raise_after: usize,
    /// See `raise_after`.
    #[serde(default = "default_periods")]
    pub periods: usize,
    /// The sinks an alarm's notifications are written to (a name or a
    /// list of names of the pipeline's sinks).
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<String>,
}

impl AlarmConfig {
    /// An alarm called `name` learning the band of `metric`, with the
    /// defaults, notifying no sink.
    pub fn new(name: impl Into<String>, metric: Measure) -> Self {
        AlarmConfig {
            name: name.into(),
            metric: metric.name().to_string(),
            stage: None,
            sink: None,
            above: None,
            below: None,
            direction: Side::Both,
            width: default_width(),
            window: default_window(),
            warmup: default_warmup(),
            min_spread: 0.0,
            relative_spread: default_relative_spread(),
            raise_after: default_raise_after(),
            periods: default_periods(),
            to: Vec::new(),
        }
    }

    /// Watches the measure of stage `stage`.
    #[must_use]
    pub fn stage(mut self, stage: impl Into<String>) -> Self {
        self.stage = Some(stage.into());
        self
    }

    /// Watches the measure of sink `sink`.
    #[must_use]
    pub fn sink(mut self, sink: impl Into<String>) -> Self {
        self.sink = Some(sink.into());
        self
    }

    /// A static threshold instead of a band: outside above `value`.
    #[must_use]
    pub fn above(mut self, value: f64) -> Self {
        self.above = Some(value);
        self
    }

    /// A static threshold instead of a band: outside below `value`.
    #[must_use]
    pub fn below(mut self, value: f64) -> Self {
        self.below = Some(value);
        self
    }

    /// Which side of the band counts.
    #[must_use]
    pub fn direction(mut self, side: Side) -> Self {
        self.direction = side;
        self
    }

    /// Raised after `m` of `n` periods outside.
    #[must_use]
    pub fn raise_after(mut self, m: usize, n: usize) -> Self {
        self.raise_after = m;
        self.periods = n;
        self
    }

    /// Also writes notifications to sink `sink`.
    #[must_use]
    pub fn to(mut self, sink: impl Into<String>) -> Self {
        self.to.push(sink.into());
        self
    }

    /// The band detector's settings.
    pub fn settings(&self) -> Settings {
        Settings {
            window: self.window,
            width: self.width,
            min_spread: self.min_spread,
            relative_spread: self.relative_spread,
            warmup: self.warmup,
            direction: match self.direction {
                Side::Both => Direction::Both,
                Side::Above => Direction::Above,
                Side::Below => Direction::Below,
            },
        }
    }

    /// Whether it compares with static thresholds.
    pub fn is_threshold(&self) -> bool {
        self.above.is_some() || self.below.is_some()
    }

    /// The series it watches, or which key is wrong and why. `stages` and
    /// `sinks` are the pipeline's.
    pub(crate) fn check(
        &self,
        stages: &[&str],
        sinks: &[&str],
    ) -> Result<SeriesKey, (&'static str, String)> {
        if self.name.trim().is_empty() {
            return Err(("name", "must not be empty".into()));
        }
        let measure = Measure::from_name(&self.metric).ok_or_else(|| {
            let known: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
            (
                "metric",
                format!(
                    "unknown metric `{}` (one of: {})",
                    self.metric,
                    known.join(", ")
                ),
            )
        })?;
        let (stage, sink) = match measure.scope() {
            Scope::Pipeline => {
                if self.stage.is_some() || self.sink.is_some() {
                    return Err((
                        "metric",
                        format!("`{measure}` is a pipeline metric: it takes no `stage` or `sink`"),
                    ));
                }
                (None, None)
            }
            Scope::Stage => match &self.stage {
                Some(s) if stages.contains(&s.as_str()) => (Some(s.clone()), None),
                Some(s) => {
                    return Err((
                        "stage",
                        format!("no stage `{s}` (stages: {})", stages.join(", ")),
                    ));
                }
                None => return Err(("stage", format!("`{measure}` needs a `stage`"))),
            },
            Scope::Sink => match &self.sink {
                Some(s) if sinks.contains(&s.as_str()) => (None, Some(s.clone())),
                Some(s) => {
                    return Err((
                        "sink",
                        format!("no sink `{s}` (sinks: {})", sinks.join(", ")),
                    ));
                }
                None => return Err(("sink", format!("`{measure}` needs a `sink`"))),
            },
        };
        for (key, v) in [("above", self.above), ("below", self.below)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err((key, "must be a finite number".into()));
            }
        }
        if !self.is_threshold() {
            self.settings()
                .check()
                .map_err(|e| (e.field(), e.to_string()))?;
        }
        Trigger::new(self.raise_after, self.periods).map_err(|e| {
            let key = if e.field() == "n" {
                "periods"
            } else {
                "raise_after"
            };
            (key, format!("{}, got {}", e.requirement(), e.value()))
        })?;
        for to in &self.to {
            if !sinks.contains(&to.as_str()) {
                return Err((
                    "to",
                    format!("no sink `{to}` (sinks: {})", sinks.join(", ")),
                ));
            }
        }
        Ok(SeriesKey {
            measure,
            stage,
            sink,
        })
    }
}

/// Where an alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlarmState {
    /// A band alarm still learning its band.
    Learning,
    /// Inside.
    Ok,
    /// Raised.
    Alarm,
}

impl AlarmState {
    /// `learning`, `ok` or `alarm`.
    pub fn name(self) -> &'static str {
        match self {
            AlarmState::Learning => "learning",
            AlarmState::Ok => "ok",
            AlarmState::Alarm => "alarm",
        }
    }
}

/// An alarm and where it stands, as the admin API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmStatus {
    /// Its config.
    pub config: AlarmConfig,
    /// The series it watches.
    pub series: SeriesKey,
    /// Where it stands.
    pub state: AlarmState,
    /// The last value it saw.
    pub value: Option<f64>,
    /// The band that value was compared with.
    pub band: Option<Band>,
    /// Since when it is in this state (or the pipeline started).
    pub since: SystemTime,
    /// How often it was raised.
    pub raised: u64,
}

/// An alarm raised or cleared: what its sinks receive (as JSON) and the
/// admin API lists.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvent {
    /// When.
    pub at: SystemTime,
    /// The pipeline.
    pub pipeline: String,
    /// The alarm's name.
    pub alarm: String,
    /// The series it watches.
    pub series: SeriesKey,
    /// Raised (`true`) or cleared.
    pub raised: bool,
    /// The value that decided it.
    pub value: f64,
    /// The band it was compared with (band alarms).
    pub band: Option<Band>,
    /// The static thresholds (threshold alarms).
    pub above: Option<f64>,
    /// See `above`.
    pub below: Option<f64>,
    /// The monitor's period, in milliseconds.
    pub period_ms: u64,
}

impl AlarmEvent {
    /// The event as the JSON object its sinks receive.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "pipeline": self.pipeline,
            "alarm": self.alarm,
            "state": if self.raised { "raised" } else { "cleared" },
            "metric": self.series.measure.name(),
            "unit": self.series.measure.unit(),
            "stage": self.series.stage,
            "sink": self.series.sink,
            "value": self.value,
            "band": self.band.map(band_json),
            "above": self.above,
            "below": self.below,
            "at_ms": super::millis(self.at),
            "period_ms": self.period_ms,
        })
    }
}

/// A band as `{"low", "center", "high"}`.
pub(crate) fn band_json(b: Band) -> serde_json::Value {
    serde_json::json!({"low": b.low, "center": b.center, "high": b.high})
}

/// An alarm while the pipeline runs.
pub(crate) struct AlarmRule {
    pub(crate) config: AlarmConfig,
    pub(crate) series: SeriesKey,
    detector: Option<Detector>,
    trigger: Trigger,
    state: AlarmState,
    value: Option<f64>,
    band: Option<Band>,
    since: SystemTime,
    raised: u64,
}

impl AlarmRule {
    /// A rule for a config; `None` if its trigger is invalid (which
    /// [`AlarmConfig::check`] reports first).
    pub(crate) fn new(config: AlarmConfig, series: SeriesKey, now: SystemTime) -> Option<Self> {
        let detector = (!config.is_threshold()).then(|| Detector::new(config.settings()));
        let trigger = Trigger::new(config.raise_after, config.periods).ok()?;
        Some(AlarmRule {
            state: if detector.is_some() {
                AlarmState::Learning
            } else {
                AlarmState::Ok
            },
            config,
            series,
            detector,
            trigger,
            value: None,
            band: None,
            since: now,
            raised: 0,
        })
    }

    /// Takes the period's value (none: nothing to measure, e.g. no plugin
    /// call completed); an event if the alarm was raised or cleared.
    pub(crate) fn observe(
        &mut self,
        value: Option<f64>,
        now: SystemTime,
        pipeline: &str,
        period_ms: u64,
    ) -> Option<AlarmEvent> {
        let value = value.filter(|v| v.is_finite())?;
        self.value = Some(value);
        let outside = match &mut self.detector {
            Some(d) => {
                let o = d.observe(value);
                self.band = o.band;
                o.band?;
                if self.state == AlarmState::Learning {
                    self.state = AlarmState::Ok;
                    self.since = now;
                }
                o.outside
            }
            None => {
                self.config.above.is_some_and(|a| value > a)
                    || self.config.below.is_some_and(|b| value < b)
            }
        };
        let transition = self.trigger.update(outside)?;
        let raised = transition == Transition::Raised;
        self.state = if raised {
            self.raised += 1;
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        self.since = now;
        Some(AlarmEvent {
            at: now,
            pipeline: pipeline.to_string(),
            alarm: self.config.name.clone(),
            series: self.series.clone(),
            raised,
            value,
            band: self.band,
            above: self.config.above,
            below: self.config.below,
            period_ms,
        })
    }

    pub(crate) fn status(&self) -> AlarmStatus {
        AlarmStatus {
            config: self.config.clone(),
            series: self.series.clone(),
            state: self.state,
            value: self.value,
            band: self.band,
            since: self.since,
            raised: self.raised,
        }
    }
}
