//! Aggregator plugin: flags vehicles whose engines run hot for their own
//! history, with the anomaly detector of `crates/weir-anomaly`.
//!
//! Reads the generator's telemetry records (`engine_temp_c`; the vehicle id
//! is the record key, so with `window = { size = "60s", by = "key" }` the
//! host's windows are per vehicle and per minute). Each window's
//! accumulator is the count and sum of its readings (17 bytes, versioned).
//! When a window closes, the plugin loads that vehicle's detector from its
//! state (key `anomaly/<vehicle>`), observes the window's mean engine
//! temperature, and saves the detector back. If the mean is above the
//! vehicle's band — learnt from its own past windows, not from a
//! fleet-wide threshold — it emits, keyed by the vehicle id:
//! `{"vehicle":"v-009","window_start":1767226860000,"window_end":1767226920000,"engine_temp_c":102.37,"band":{"low":83.04,"center":89.6,"high":96.15},"history":21}`
//! (`history`: the past window means the band was learnt from).
//!
//! Settings (all optional; any other is an error):
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `window` | 30 | past window means kept per vehicle |
//! | `width` | 3.0 | band half-width in robust standard deviations (1.4826 × MAD) |
//! | `warmup` | 10 | window means seen before a vehicle can be flagged |
//! | `relative_spread` | 0.0 | smallest half-width as a share of the median |
//! | `min_spread_c` | 6.0 | smallest half-width, °C |
//!
//! The band is one-sided (only a rise is flagged) and follows a vehicle
//! whose normal changes for good after about `window / 2` windows. A
//! window closed again after a retried call is not observed twice: the
//! state remembers the end of the last window observed.

mod logic;

use logic::{Alert, History, Mean, Reading};
use weir_anomaly::Settings as DetectorSettings;
use weir_plugin::{Aggregator, Emitter, Record, Settings, Window, log, state};

/// The aggregator: the detector settings and a reusable output buffer.
struct Anomaly {
    settings: DetectorSettings,
    buf: Vec<u8>,
}

impl Anomaly {
    /// The vehicle's history under `key`, or a fresh one.
    fn history(&self, key: &str) -> History {
        match state::get(key) {
            None => History::new(&self.settings),
            Some(bytes) => History::decode(&bytes, &self.settings).unwrap_or_else(|e| {
                log::warn(&format!(
                    "anomaly: unreadable state under {key:?} ({e}), starting afresh"
                ));
                History::new(&self.settings)
            }),
        }
    }
}

impl Aggregator for Anomaly {
    type Accumulator = Mean;

    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Self {
            settings: logic::detector_settings(settings)?,
            buf: Vec::with_capacity(256),
        })
    }

    fn load(&mut self, _: &Window<'_>, saved: Option<&[u8]>) -> Result<Mean, String> {
        saved.map_or(Ok(Mean::default()), Mean::decode)
    }

    fn accumulate(
        &mut self,
        _: &Window<'_>,
        mean: &mut Mean,
        record: &Record<'_>,
    ) -> Result<(), String> {
        let reading: Reading = serde_json::from_slice(record.value())
            .map_err(|e| format!("not a JSON telemetry object: {e}"))?;
        mean.add(&reading);
        Ok(())
    }

    fn save(&mut self, mean: &Mean) -> Vec<u8> {
        mean.encode()
    }

    fn emit(&mut self, window: &Window<'_>, mean: Mean, out: &mut Emitter<'_>) {
        let Some(value) = mean.value() else {
            return;
        };
        let vehicle = window.key_str();
        let key = logic::state_key(vehicle);
        let mut history = self.history(&key);
        let past = history.detector.len();
        let Some(seen) = history.observe(window.end, value) else {
            log::debug(&format!(
                "anomaly: window {}..{} of {key:?} was already observed",
                window.start, window.end
            ));
            return;
        };
        state::set(&key, &history.encode());
        let Some(alert) = Alert::of(vehicle, window.start, window.end, &seen, past) else {
            return;
        };
        self.buf.clear();
        match serde_json::to_writer(&mut self.buf, &alert) {
            Ok(()) => out.emit(&self.buf),
            Err(e) => log::error(&format!("anomaly: cannot write an alert: {e}")),
        }
    }
}

weir_plugin::export_aggregator!(Anomaly);

#[cfg(test)]
mod tests {
    use super::logic::*;
    use weir_anomaly::Direction;
    use weir_plugin::Settings;

    fn settings(pairs: &[(&str, &str)]) -> Result<weir_anomaly::Settings, String> {
        detector_settings(&pairs.iter().copied().collect::<Settings>())
    }

    #[test]
    fn settings_default_parse_and_errors_name_the_setting() {
        assert_eq!(settings(&[]), Ok(defaults()));
        assert_eq!(defaults().direction, Direction::Above);
        let s = settings(&[
            ("window", "20"),
            ("width", "4"),
            ("warmup", "5"),
            ("relative_spread", "0.02"),
            ("min_spread_c", "2.5"),
        ]);
        assert_eq!(
            s,
            Ok(weir_anomaly::Settings {
                window: 20,
                width: 4.0,
                warmup: 5,
                relative_spread: 0.02,
                min_spread: 2.5,
                direction: Direction::Above,
            })
        );
        let err = |pairs: &[(&str, &str)]| settings(pairs).err().unwrap_or_default();
        assert_eq!(
            err(&[("min_spread_c", "-1")]),
            "setting `min_spread_c` must be a finite number of at least 0, got -1"
        );
        assert_eq!(
            err(&[("warmup", "40")]),
            "setting `warmup` must be between 3 and `window` (30), got 40"
        );
        assert_eq!(
            err(&[("window", "2"), ("warmup", "2")]),
            "setting `window` must be at least 3, got 2"
        );
        assert_eq!(
            err(&[("width", "0")]),
            "setting `width` must be a positive finite number, got 0"
        );
        assert_eq!(
            err(&[("window", "many")]),
            "setting `window`: cannot parse \"many\" as usize: invalid digit found in string"
        );
        assert_eq!(
            err(&[("min_spread", "2")]),
            "unknown setting `min_spread` (the settings are `window`, `width`, `warmup`, \
             `relative_spread`, `min_spread_c`)"
        );
    }

    #[test]
    fn mean_folds_and_round_trips() {
        let mut m = Mean::default();
        assert_eq!(m.value(), None);
        for t in [90.0, 92.0, 97.0] {
            m.add(&Reading { engine_temp_c: t });
        }
        assert_eq!(m.value(), Some(93.0));
        let bytes = m.encode();
        assert_eq!(bytes.len(), 17);
        assert_eq!(Mean::decode(&bytes), Ok(m));
        assert!(Mean::decode(&bytes[..16]).unwrap_err().contains("16 bytes"));
        assert!(Mean::decode(&[]).is_err());
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(Mean::decode(&v2).unwrap_err().contains("version 2"));
        let reading: Reading =
            serde_json::from_str(r#"{"vehicle_id":"v-001","engine_temp_c":91.5,"speed_kmh":3}"#)
                .unwrap();
        assert_eq!(reading.engine_temp_c, 91.5);
    }

    /// Window means of one vehicle: `normal` around 90 °C, then `hot`
    /// around 102 °C, then normal again; returns the alerts' window indices.
    fn run(history: &mut History, means: &[f64]) -> Vec<usize> {
        let mut flagged = Vec::new();
        for (i, &mean) in means.iter().enumerate() {
            let end = 60_000 * (i as i64 + 1);
            let past = history.detector.len();
            let Some(seen) = history.observe(end, mean) else {
                panic!("window {i} observed twice");
            };
            if let Some(alert) = Alert::of(Some("v-1"), end - 60_000, end, &seen, past) {
                assert_eq!(alert.history, past);
                flagged.push(i);
            }
            // Through the state bytes, as the plugin does between windows.
            *history = History::decode(&history.encode(), &defaults()).unwrap();
        }
        flagged
    }

    fn normal(i: usize) -> f64 {
        // 88.5 to 92.5 °C: city and highway minutes.
        88.5 + (i * 7 % 9) as f64 / 2.0
    }

    #[test]
    fn a_hot_engine_is_flagged_and_its_normal_minutes_are_not() {
        let mut means: Vec<f64> = (0..20).map(normal).collect();
        means.extend([98.0, 102.5, 103.0, 101.8, 102.2]);
        means.extend((25..40).map(normal));
        let mut h = History::new(&defaults());
        assert_eq!(run(&mut h, &means), [20, 21, 22, 23, 24]);
        assert_eq!(h.detector.len(), 30);
    }

    #[test]
    fn nothing_is_flagged_during_the_warmup_or_below_the_band() {
        let mut h = History::new(&defaults());
        // Hot from the start: no history to be hot for.
        assert_eq!(run(&mut h, &[104.0; 9]), Vec::<usize>::new());
        // A cold engine is not an anomaly here (the band is one-sided).
        let mut h = History::new(&defaults());
        let mut means: Vec<f64> = (0..15).map(normal).collect();
        means.push(40.0);
        assert_eq!(run(&mut h, &means), Vec::<usize>::new());
    }

    #[test]
    fn a_window_is_observed_once_and_the_state_round_trips() {
        let mut h = History::new(&defaults());
        assert!(h.observe(60_000, 90.0).is_some());
        assert!(h.observe(60_000, 90.0).is_none(), "the same window again");
        assert!(h.observe(30_000, 90.0).is_none(), "an older window");
        assert!(h.observe(120_000, 91.0).is_some());
        let bytes = h.encode();
        assert_eq!(bytes.len(), 1 + 8 + 5 + 2 * 8);
        let back = History::decode(&bytes, &defaults()).unwrap();
        assert_eq!(back.last_end, 120_000);
        assert_eq!(back.detector.history().collect::<Vec<_>>(), [90.0, 91.0]);
        assert!(History::decode(&bytes[..12], &defaults()).is_err());
        assert!(History::decode(&bytes[..5], &defaults()).is_err());
        assert!(History::decode(&[], &defaults()).is_err());
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(History::decode(&v2, &defaults()).is_err());
        assert_eq!(state_key(Some("v-007")), "anomaly/v-007");
        assert_eq!(state_key(None), "anomaly/");
    }

    #[test]
    fn alert_json() {
        let mut h = History::new(&defaults());
        let means: Vec<f64> = (0..12).map(normal).collect();
        run(&mut h, &means);
        let past = h.detector.len();
        let seen = h.observe(13 * 60_000, 102.456_7).unwrap();
        let alert = Alert::of(Some("v-007"), 12 * 60_000, 13 * 60_000, &seen, past).unwrap();
        assert_eq!(
            serde_json::to_string(&alert).unwrap(),
            r#"{"vehicle":"v-007","window_start":720000,"window_end":780000,"engine_temp_c":102.46,"band":{"low":84.75,"center":90.75,"high":96.75},"history":12}"#
        );
    }
}
