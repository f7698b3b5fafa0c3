//! The plugin's logic, free of host calls, so that it runs and is tested
//! natively: settings, the window accumulator, the per-vehicle history and
//! the alert record.

use serde::{Deserialize, Serialize};
use weir_anomaly::{Band, Detector, Direction, Observation, Settings as DetectorSettings};
use weir_plugin::Settings;

/// The settings the plugin reads, in the order of the docs.
pub const SETTINGS: [&str; 5] = [
    "window",
    "width",
    "warmup",
    "relative_spread",
    "min_spread_c",
];

/// The detector settings of engine temperatures: 30 windows of history
/// (half an hour of one-minute windows), flagged after 10, at 3 robust
/// standard deviations and at least 6 °C above the median. No relative
/// floor: a share of a temperature in °C means nothing.
pub fn defaults() -> DetectorSettings {
    DetectorSettings {
        window: 30,
        width: 3.0,
        min_spread: 6.0,
        relative_spread: 0.0,
        warmup: 10,
        direction: Direction::Above,
    }
}

/// The detector settings from the plugin's settings: each one not given
/// keeps its [default](defaults). Errors name the plugin's setting.
pub fn detector_settings(settings: &Settings) -> Result<DetectorSettings, String> {
    if let Some((key, _)) = settings.iter().find(|(k, _)| !SETTINGS.contains(k)) {
        return Err(format!(
            "unknown setting `{key}` (the settings are {})",
            SETTINGS.map(|s| format!("`{s}`")).join(", ")
        ));
    }
    let d = defaults();
    let s = DetectorSettings {
        window: settings.parse_or("window", d.window)?,
        width: settings.parse_or("width", d.width)?,
        warmup: settings.parse_or("warmup", d.warmup)?,
        relative_spread: settings.parse_or("relative_spread", d.relative_spread)?,
        min_spread: settings.parse_or("min_spread_c", d.min_spread)?,
        direction: Direction::Above,
    };
    s.check().map_err(|e| {
        let name = match e.field() {
            "min_spread" => "min_spread_c",
            other => other,
        };
        format!("setting `{name}` {}, got {}", e.requirement(), e.value())
    })?;
    Ok(s)
}

/// The telemetry field the aggregator reads.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Reading {
    /// Engine temperature, °C.
    pub engine_temp_c: f64,
}

/// A window's accumulator: the readings' count and sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    /// Readings folded in.
    pub count: u64,
    /// Their sum, °C.
    pub sum: f64,
}

/// Layout of [`Mean`], little-endian: version `1` (u8), count (u64), sum
/// (f64): 17 bytes.
const MEAN_VERSION: u8 = 1;
const MEAN_LEN: usize = 17;

impl Mean {
    /// Folds one reading in.
    pub fn add(&mut self, r: &Reading) {
        self.count = self.count.saturating_add(1);
        self.sum += r.engine_temp_c;
    }

    /// The mean; `None` without readings.
    pub fn value(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The 17-byte versioned encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MEAN_LEN);
        out.push(MEAN_VERSION);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.sum.to_le_bytes());
        out
    }

    /// Reads what [`encode`](Self::encode) wrote.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let Some((&version, rest)) = bytes.split_first() else {
            return Err("an empty accumulator".to_owned());
        };
        if version != MEAN_VERSION {
            return Err(format!("accumulator version {version}, expected 1"));
        }
        let fields = rest
            .split_first_chunk::<8>()
            .map(|(count, sum)| (*count, <[u8; 8]>::try_from(sum)));
        let Some((count, Ok(sum))) = fields else {
            return Err(format!(
                "an accumulator of {} bytes, expected {MEAN_LEN}",
                bytes.len()
            ));
        };
        Ok(Self {
            count: u64::from_le_bytes(count),
            sum: f64::from_le_bytes(sum),
        })
    }
}

/// The state key of a vehicle's history.
pub fn state_key(vehicle: Option<&str>) -> String {
    format!("anomaly/{}", vehicle.unwrap_or_default())
}

/// A vehicle's state: its detector, and the end of the last window it
/// observed, so that a window emitted again (a retried call) is not
/// counted twice.
#[derive(Debug, Clone)]
pub struct History {
    /// The newest window end observed, ms; `i64::MIN` before any.
    pub last_end: i64,
    /// The window means observed, and their band.
    pub detector: Detector,
}

/// Layout of [`History`]: version `1` (u8), last window end (i64,
/// little-endian), then the detector's own encoding.
const HISTORY_VERSION: u8 = 1;

impl History {
    /// A vehicle seen for the first time.
    pub fn new(settings: &DetectorSettings) -> Self {
        Self {
            last_end: i64::MIN,
            detector: Detector::new(settings.clone()),
        }
    }

    /// The state bytes.
    pub fn encode(&self) -> Vec<u8> {
        let detector = self.detector.encode();
        let mut out = Vec::with_capacity(9 + detector.len());
        out.push(HISTORY_VERSION);
        out.extend_from_slice(&self.last_end.to_le_bytes());
        out.extend_from_slice(&detector);
        out
    }

    /// Reads what [`encode`](Self::encode) wrote, with `settings` (a
    /// changed `window` keeps the newest values).
    pub fn decode(bytes: &[u8], settings: &DetectorSettings) -> Result<Self, String> {
        let Some((&version, rest)) = bytes.split_first() else {
            return Err("empty state".to_owned());
        };
        if version != HISTORY_VERSION {
            return Err(format!("state version {version}, expected 1"));
        }
        let Some((end, detector)) = rest.split_first_chunk::<8>() else {
            return Err(format!("state of {} bytes is truncated", bytes.len()));
        };
        Ok(Self {
            last_end: i64::from_le_bytes(*end),
            detector: Detector::decode(detector, settings.clone()).map_err(|e| e.to_string())?,
        })
    }

    /// Observes the mean of the window ending at `end`; `None` when a
    /// window ending there or later was already observed.
    pub fn observe(&mut self, end: i64, mean: f64) -> Option<Observation> {
        if end <= self.last_end {
            return None;
        }
        self.last_end = end;
        Some(self.detector.observe(mean))
    }
}

/// A band in the alert, rounded to 0.01 °C.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandJson {
    /// Lower bound, °C.
    pub low: f64,
    /// The median of the vehicle's past window means, °C.
    pub center: f64,
    /// Upper bound, °C: the window's mean is above it.
    pub high: f64,
}

/// The record emitted for a window whose mean is above its vehicle's band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert<'a> {
    /// The vehicle id (the window key); `None` for per-partition windows.
    pub vehicle: Option<&'a str>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub window_start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub window_end: i64,
    /// The window's mean engine temperature, °C, rounded to 0.01.
    pub engine_temp_c: f64,
    /// The band it is above.
    pub band: BandJson,
    /// How many past window means the band was learnt from.
    pub history: usize,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl<'a> Alert<'a> {
    /// The alert for an observation outside its band; `None` inside it or
    /// without a band (warm-up). `history` is the number of values the
    /// band came from.
    pub fn of(
        vehicle: Option<&'a str>,
        window_start: i64,
        window_end: i64,
        seen: &Observation,
        history: usize,
    ) -> Option<Self> {
        let band: Band = seen.band.filter(|_| seen.outside)?;
        Some(Self {
            vehicle,
            window_start,
            window_end,
            engine_temp_c: round2(seen.value),
            band: BandJson {
                low: round2(band.low),
                center: round2(band.center),
                high: round2(band.high),
            },
            history,
        })
    }
}
