//! The window statistics, free of any plugin glue, so that they run and are
//! tested natively.

use serde::{Deserialize, Serialize};

/// The telemetry fields the aggregator reads.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Reading {
    /// Speed, km/h.
    pub speed_kmh: f64,
    /// Engine temperature, °C.
    pub engine_temp_c: f64,
    /// Acceleration, m/s² (negative when braking).
    pub accel_mps2: f64,
}

/// What a window remembers about its readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Number of readings.
    pub count: u64,
    /// Sum of the speeds, km/h.
    pub speed_sum_kmh: f64,
    /// Highest speed, km/h (0 while `count == 0`).
    pub speed_max_kmh: f64,
    /// Readings at or below the harsh-braking threshold.
    pub harsh_brakings: u64,
    /// Highest engine temperature, °C (0 while `count == 0`).
    pub engine_temp_max_c: f64,
}

/// Binary layout, little-endian: version `1` (u8), count (u64), speed sum
/// (f64), speed max (f64), harsh brakings (u64), engine temperature max
/// (f64): 41 bytes.
const VERSION: u8 = 1;
const ENCODED_LEN: usize = 41;

/// One window's output record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary<'a> {
    /// The vehicle id (the window key); `None` for per-partition windows.
    pub vehicle: Option<&'a str>,
    /// Window start, ms since the Unix epoch (inclusive).
    pub window_start: i64,
    /// Window end, ms since the Unix epoch (exclusive).
    pub window_end: i64,
    /// Number of readings.
    pub count: u64,
    /// Mean speed, km/h.
    pub avg_speed_kmh: f64,
    /// Highest speed, km/h.
    pub max_speed_kmh: f64,
    /// Readings at or below the harsh-braking threshold.
    pub harsh_brakings: u64,
    /// Highest engine temperature, °C.
    pub max_engine_temp_c: f64,
}

impl Stats {
    /// Folds one reading in; `harsh_braking_mps2` is the (negative)
    /// acceleration at or below which a reading counts as harsh braking.
    pub fn add(&mut self, r: &Reading, harsh_braking_mps2: f64) {
        if self.count == 0 {
            self.speed_max_kmh = r.speed_kmh;
            self.engine_temp_max_c = r.engine_temp_c;
        } else {
            self.speed_max_kmh = self.speed_max_kmh.max(r.speed_kmh);
            self.engine_temp_max_c = self.engine_temp_max_c.max(r.engine_temp_c);
        }
        self.count = self.count.saturating_add(1);
        self.speed_sum_kmh += r.speed_kmh;
        if r.accel_mps2 <= harsh_braking_mps2 {
            self.harsh_brakings = self.harsh_brakings.saturating_add(1);
        }
    }

    /// The window's output record; `None` when it has no readings.
    pub fn summary<'a>(
        &self,
        vehicle: Option<&'a str>,
        start: i64,
        end: i64,
    ) -> Option<Summary<'a>> {
        (self.count > 0).then(|| Summary {
            vehicle,
            window_start: start,
            window_end: end,
            count: self.count,
            avg_speed_kmh: self.speed_sum_kmh / self.count as f64,
            max_speed_kmh: self.speed_max_kmh,
            harsh_brakings: self.harsh_brakings,
            max_engine_temp_c: self.engine_temp_max_c,
        })
    }

    /// The stats as bytes (layout above).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.speed_sum_kmh.to_le_bytes());
        out.extend_from_slice(&self.speed_max_kmh.to_le_bytes());
        out.extend_from_slice(&self.harsh_brakings.to_le_bytes());
        out.extend_from_slice(&self.engine_temp_max_c.to_le_bytes());
        out
    }

    /// Parses [`Stats::encode`] output.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let Some((&version, body)) = bytes.split_first() else {
            return Err("empty accumulator".to_owned());
        };
        if version != VERSION {
            return Err(format!("unknown accumulator version {version}"));
        }
        let (&[count, sum, max, harsh, temp], []) = body.as_chunks::<8>() else {
            return Err(format!(
                "accumulator of {} bytes, expected {ENCODED_LEN}",
                bytes.len()
            ));
        };
        Ok(Self {
            count: u64::from_le_bytes(count),
            speed_sum_kmh: f64::from_le_bytes(sum),
            speed_max_kmh: f64::from_le_bytes(max),
            harsh_brakings: u64::from_le_bytes(harsh),
            engine_temp_max_c: f64::from_le_bytes(temp),
        })
    }
}
