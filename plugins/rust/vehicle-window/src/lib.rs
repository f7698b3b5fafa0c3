//! Aggregator plugin: per-vehicle statistics over event-time windows of vehicle telemetry.
//!
//! Settings: `harsh_braking_mps2` (default -7.0): a reading with
//! `accel_mps2` at or below it counts as harsh braking.
//!
//! Reads the generator's telemetry records (`speed_kmh`, `engine_temp_c`,
//! `accel_mps2`; the vehicle id is the record key, so the host's keyed
//! windows are per vehicle). The accumulator is a 41-byte versioned
//! [`Stats`]. For each closed window with readings it emits, keyed by the
//! vehicle id:
//! `{"vehicle":"v-007","window_start":..,"window_end":..,"count":..,"avg_speed_kmh":..,"max_speed_kmh":..,"harsh_brakings":..,"max_engine_temp_c":..}`.

mod logic;

use logic::{Reading, Stats};
use weir_plugin::{Aggregator, Emitter, Record, Settings, Window, log};

/// The aggregator: its threshold and a reusable output buffer.
struct VehicleWindow {
    harsh_braking_mps2: f64,
    buf: Vec<u8>,
}

impl Aggregator for VehicleWindow {
    type Accumulator = Stats;

    fn init(settings: &Settings) -> Result<Self, String> {
        let harsh_braking_mps2: f64 = settings.parse_or("harsh_braking_mps2", -7.0)?;
        if !harsh_braking_mps2.is_finite() {
            return Err("setting `harsh_braking_mps2` must be a finite number".to_owned());
        }
        Ok(Self {
            harsh_braking_mps2,
            buf: Vec::with_capacity(256),
        })
    }

    fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<Stats, String> {
        saved.map_or(Ok(Stats::default()), Stats::decode)
    }

    fn accumulate(
        &mut self,
        _: &Window<'_>,
        stats: &mut Stats,
        record: &Record<'_>,
    ) -> Result<(), String> {
        let reading: Reading = serde_json::from_slice(record.value())
            .map_err(|e| format!("not a JSON telemetry object: {e}"))?;
        stats.add(&reading, self.harsh_braking_mps2);
        Ok(())
    }

    fn save(&mut self, stats: &Stats) -> Vec<u8> {
        stats.encode()
    }

    fn emit(&mut self, window: &Window<'_>, stats: Stats, out: &mut Emitter<'_>) {
        let Some(summary) = stats.summary(window.key_str(), window.start, window.end) else {
            return;
        };
        self.buf.clear();
        match serde_json::to_writer(&mut self.buf, &summary) {
            Ok(()) => out.emit(&self.buf),
            Err(e) => log::error(&format!("vehicle-window: cannot write a summary: {e}")),
        }
    }
}

weir_plugin::export_aggregator!(VehicleWindow);

#[cfg(test)]
mod tests {
    use super::logic::*;

    fn reading(speed_kmh: f64, engine_temp_c: f64, accel_mps2: f64) -> Reading {
        Reading {
            speed_kmh,
            engine_temp_c,
            accel_mps2,
        }
    }

    #[test]
    fn folds_readings() {
        let mut s = Stats::default();
        assert_eq!(s.summary(Some("v-1"), 0, 60_000), None, "no readings");
        s.add(&reading(50.0, 90.0, -1.0), -7.0);
        s.add(&reading(70.0, -3.5, -7.0), -7.0);
        s.add(&reading(30.0, 88.0, -9.5), -7.0);
        let sum = s.summary(Some("v-1"), 0, 60_000).unwrap();
        assert_eq!(sum.count, 3);
        assert_eq!(sum.avg_speed_kmh, 50.0);
        assert_eq!(sum.max_speed_kmh, 70.0);
        assert_eq!(sum.harsh_brakings, 2, "at or below the threshold");
        assert_eq!(sum.max_engine_temp_c, 90.0);
        let mut cold = Stats::default();
        cold.add(&reading(0.0, -12.0, 0.0), -7.0);
        assert_eq!(
            cold.engine_temp_max_c, -12.0,
            "the first reading sets the maximum"
        );
    }

    #[test]
    fn encoding_round_trips_and_rejects_other_bytes() {
        let mut s = Stats::default();
        s.add(&reading(87.5, 92.1, -8.2), -7.0);
        s.add(&reading(12.25, 95.0, 0.5), -7.0);
        let bytes = s.encode();
        assert_eq!(bytes.len(), 41);
        assert_eq!(Stats::decode(&bytes), Ok(s));
        assert_eq!(
            Stats::decode(&Stats::default().encode()),
            Ok(Stats::default())
        );
        assert!(
            Stats::decode(&bytes[..40])
                .unwrap_err()
                .contains("40 bytes")
        );
        assert!(Stats::decode(&[]).is_err());
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(Stats::decode(&v2).unwrap_err().contains("version 2"));
    }

    #[test]
    fn summary_json() {
        let mut s = Stats::default();
        s.add(&reading(40.0, 90.0, -1.0), -7.0);
        s.add(&reading(45.0, 91.5, -8.0), -7.0);
        let json = serde_json::to_string(&s.summary(Some("v-007"), 1_000, 61_000)).unwrap();
        assert_eq!(
            json,
            r#"{"vehicle":"v-007","window_start":1000,"window_end":61000,"count":2,"avg_speed_kmh":42.5,"max_speed_kmh":45.0,"harsh_brakings":1,"max_engine_temp_c":91.5}"#
        );
    }
}
