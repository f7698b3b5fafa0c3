//! Connected-vehicle telemetry keyed by vehicle id.
//!
//! Value shape (field order fixed):
//! `{"vehicle_id":"v-007","ts":1767225600000,"lat":52.5200,"lon":13.4050,"speed_kmh":87.5,"engine_temp_c":92.1,"fuel_pct":64.2,"accel_mps2":-1.2}`
//!
//! 50 vehicles drive around Berlin (lat 52.45–52.60, lon 13.25–13.55) and
//! report round-robin, each about once per second of event time. Normal
//! readings keep `accel_mps2 > -5.0` and `engine_temp_c < 105`. Planted, each
//! on ~0.5% of records: `"harsh-braking"` (`accel_mps2 <= -8.0`, the speed
//! drops accordingly) and `"over-temperature"` (a reading `>= 115`).
//!
//! With the `hot_engines` option (off by default), that many vehicles,
//! chosen by the seed, run hot from the middle of the run for five minutes
//! of event time: their engine warms towards 14 °C above its normal
//! temperature (to 100–104 °C within a minute: far above the vehicle's own
//! normal, yet under the fixed over-temperature thresholds) and cools down
//! again afterwards. Their readings of those five minutes are labelled
//! `"hot-engine"` unless planted otherwise. Everything else — the other
//! vehicles, and these ones' readings but for their engine temperatures
//! from the episode on — is byte for byte what the seed gives without the
//! option.

use super::data::{EPOCH_MS, Generated, Generator, Rng, fixed, math};

/// Vehicles in the fleet.
pub(super) const VEHICLES: usize = 50;
const SLOT_MS: u64 = 1_000 / VEHICLES as u64;
const LAT: (f64, f64) = (52.45, 52.60);
const LON: (f64, f64) = (13.25, 13.55);
const M_PER_DEG_LAT: f64 = 111_320.0;
/// cos(52.525 degrees), metres per degree of longitude relative to latitude.
const COS_LAT: f64 = 0.6085;
/// Harsh braking is only planted at >= 40 km/h, which about 60% of readings are.
const P_HARSH: f64 = 0.0085;
const P_HOT: f64 = 0.005;
const MIN_ACCEL: f64 = -4.5;
const MAX_ACCEL: f64 = 3.0;
const MAX_TEMP: f64 = 104.0;
/// Fuel used, in percent of a tank per metre driven.
const FUEL_PER_M: f64 = 0.000_3;
/// How much warmer than normal a hot engine runs, °C.
const HOT_ENGINE_C: f64 = 14.0;
/// How long a hot engine runs hot, seconds of event time.
const HOT_ENGINE_S: u64 = 300;
/// The random stream that chooses the hot engines (vehicles use 0..VEHICLES).
const HOT_ENGINE_STREAM: u64 = VEHICLES as u64;

struct Vehicle {
    id: usize,
    lat: f64,
    lon: f64,
    /// Radians clockwise from north.
    heading: f64,
    speed: f64,
    target: f64,
    temp: f64,
    fuel: f64,
}

fn cruise_speed(rng: &mut Rng) -> f64 {
    match rng.below(10) {
        0 => 0.0,
        1..=3 => rng.range_f64(25.0, 35.0),
        4..=6 => rng.range_f64(45.0, 55.0),
        7 | 8 => rng.range_f64(60.0, 80.0),
        _ => rng.range_f64(90.0, 120.0),
    }
}

impl Vehicle {
    fn new(id: usize, seed: u64) -> Self {
        let mut rng = Rng::stream(seed, id as u64);
        let speed = cruise_speed(&mut rng);
        Self {
            id,
            lat: rng.range_f64(LAT.0 + 0.01, LAT.1 - 0.01),
            lon: rng.range_f64(LON.0 + 0.01, LON.1 - 0.01),
            heading: rng.range_f64(-std::f64::consts::PI, std::f64::consts::PI),
            speed,
            target: speed,
            temp: rng.range_f64(85.0, 95.0),
            fuel: rng.range_f64(20.0, 95.0),
        }
    }

    /// Advances one second, running hot if `overheating`; returns the
    /// reported acceleration, the reported engine temperature and the
    /// planted label.
    fn step(&mut self, rng: &mut Rng, overheating: bool) -> (f64, f64, Option<&'static str>) {
        if rng.chance(0.02) {
            self.target = cruise_speed(rng);
        }
        let roll = rng.next_f64();
        let harsh = roll < P_HARSH && self.speed >= 40.0;
        let hot = !harsh && (P_HARSH..P_HARSH + P_HOT).contains(&roll);
        let mut accel = if harsh {
            rng.range_f64(-10.5, -8.05)
        } else {
            (0.25 * (self.target - self.speed) / 3.6 + rng.normal(0.0, 0.3))
                .clamp(MIN_ACCEL, MAX_ACCEL)
        };
        let old = self.speed;
        self.speed = (old + 3.6 * accel).clamp(0.0, 130.0);
        accel = (self.speed - old) / 3.6;

        // Move (metres) along a slowly wandering heading; turn back inside.
        self.heading += rng.normal(0.0, 0.08);
        let dist = (old + self.speed) / 2.0 / 3.6;
        self.lat += dist * math::cos(self.heading) / M_PER_DEG_LAT;
        self.lon += dist * math::sin(self.heading) / (M_PER_DEG_LAT * COS_LAT);
        let inside = |v: f64, (lo, hi): (f64, f64)| v > lo + 0.005 && v < hi - 0.005;
        if !inside(self.lat, LAT) || !inside(self.lon, LON) {
            let north = ((LAT.0 + LAT.1) / 2.0 - self.lat) * M_PER_DEG_LAT;
            let east = ((LON.0 + LON.1) / 2.0 - self.lon) * M_PER_DEG_LAT * COS_LAT;
            self.heading = math::atan2(east, north);
        }
        self.lat = self.lat.clamp(LAT.0, LAT.1);
        self.lon = self.lon.clamp(LON.0, LON.1);

        let mut warm = 86.0 + 8.0 * self.speed / 130.0;
        if overheating {
            warm += HOT_ENGINE_C;
        }
        self.temp =
            (self.temp + 0.05 * (warm - self.temp) + rng.normal(0.0, 0.2)).clamp(80.0, MAX_TEMP);
        self.fuel -= dist * FUEL_PER_M;
        if self.fuel < 5.0 {
            self.fuel = rng.range_f64(85.0, 98.0);
        }
        let temp = if hot {
            rng.range_f64(115.0, 122.0)
        } else {
            self.temp
        };
        let planted = if harsh {
            Some("harsh-braking")
        } else if hot {
            Some("over-temperature")
        } else if overheating {
            Some("hot-engine")
        } else {
            None
        };
        (accel, temp, planted)
    }
}

/// Which engines run hot, and when (the `hot_engines` option).
struct HotEngines {
    /// Bit `i` set: vehicle `i` runs hot.
    vehicles: u64,
    /// The seconds of event time (rounds, from the first record) in which
    /// they run hot.
    rounds: std::ops::Range<u64>,
}

/// The vehicle-telemetry workload (see the module docs).
pub struct Telemetry {
    rng: Rng,
    seq: u64,
    vehicles: [Vehicle; VEHICLES],
    hot: Option<HotEngines>,
}

impl Telemetry {
    /// Creates the workload for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            seq: 0,
            vehicles: std::array::from_fn(|i| Vehicle::new(i, seed)),
            hot: None,
        }
    }

    /// The workload for `seed` in a run of `count` records, in which
    /// `hot_engines` vehicles (at most all of them), chosen by the seed,
    /// run hot for five minutes from the middle of the run.
    pub fn with_hot_engines(seed: u64, hot_engines: u32, count: u64) -> Self {
        let mut rng = Rng::stream(seed, HOT_ENGINE_STREAM);
        let mut ids: [usize; VEHICLES] = std::array::from_fn(|i| i);
        let mut vehicles = 0_u64;
        for k in 0..(hot_engines as usize).min(VEHICLES) {
            ids.swap(k, k + rng.index(VEHICLES - k));
            vehicles |= 1 << ids[k];
        }
        let from = count / 2 / VEHICLES as u64;
        Self {
            hot: Some(HotEngines {
                vehicles,
                rounds: from..from.saturating_add(HOT_ENGINE_S),
            }),
            ..Self::new(seed)
        }
    }
}

impl Generator for Telemetry {
    fn next_record(&mut self) -> Generated {
        let slot = (self.seq % VEHICLES as u64) as usize;
        let round = self.seq / VEHICLES as u64;
        let overheating = self
            .hot
            .as_ref()
            .is_some_and(|h| h.vehicles >> slot & 1 == 1 && h.rounds.contains(&round));
        // Vehicle `slot` reports in its own 20 ms slot of every second, so
        // timestamps never decrease and each vehicle reports ~1 s apart.
        let jitter = if self.seq == 0 {
            0
        } else {
            self.rng.below(SLOT_MS)
        };
        let ts = EPOCH_MS
            .saturating_add((round as i64).saturating_mul(1_000))
            .saturating_add((slot as u64 * SLOT_MS + jitter) as i64);
        self.seq = self.seq.saturating_add(1);
        let [first, rest @ ..] = &mut self.vehicles;
        let v = match slot.checked_sub(1).and_then(|j| rest.get_mut(j)) {
            Some(v) => v,
            None => first,
        };
        let (accel, temp, planted) = v.step(&mut self.rng, overheating);
        let key = format!("v-{:03}", v.id);
        let value = format!(
            "{{\"vehicle_id\":\"{key}\",\"ts\":{ts},\"lat\":{},\"lon\":{},\"speed_kmh\":{},\
             \"engine_temp_c\":{},\"fuel_pct\":{},\"accel_mps2\":{}}}",
            fixed(v.lat, 4),
            fixed(v.lon, 4),
            fixed(v.speed, 1),
            fixed(temp, 1),
            fixed(v.fuel, 1),
            fixed(accel, 1),
        );
        Generated {
            key: key.into_bytes(),
            value: value.into_bytes(),
            timestamp_ms: ts,
            planted,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::error::Error;

    use super::super::data::parse_value;
    use super::*;

    type TestResult = Result<(), Box<dyn Error>>;

    const KEYS: &str = "vehicle_id,ts,lat,lon,speed_kmh,engine_temp_c,fuel_pct,accel_mps2";

    struct Reading {
        planted: Option<&'static str>,
        ts: i64,
        speed: f64,
        temp: f64,
        fuel: f64,
        accel: f64,
    }

    fn readings(seed: u64, n: usize) -> Result<Vec<(String, Reading)>, Box<dyn Error>> {
        let mut g = Telemetry::new(seed);
        let mut out = Vec::new();
        for _ in 0..n {
            let r = g.next_record();
            let v = parse_value(&r.value, KEYS)?;
            let text = std::str::from_utf8(&r.value)?;
            assert!(
                (135..=150).contains(&text.len()),
                "{} bytes: {text}",
                text.len()
            );
            let f = |k: &str| v[k].as_f64().ok_or(format!("{k} in {text}"));
            let (lat, lon) = (f("lat")?, f("lon")?);
            assert!(
                (52.45..=52.60).contains(&lat) && (13.25..=13.55).contains(&lon),
                "{text}"
            );
            let decimals = |k: &str| {
                text.split(&format!("\"{k}\":"))
                    .nth(1)
                    .and_then(|t| t.split([',', '}']).next())
                    .and_then(|t| t.split('.').nth(1))
                    .map(str::len)
            };
            assert_eq!(
                (decimals("lat"), decimals("lon"), decimals("speed_kmh")),
                (Some(4), Some(4), Some(1))
            );
            let id = v["vehicle_id"].as_str().ok_or("vehicle_id")?;
            assert_eq!(id.as_bytes(), r.key.as_slice());
            let ts = v["ts"].as_i64().ok_or("ts")?;
            assert_eq!(ts, r.timestamp_ms);
            let reading = Reading {
                planted: r.planted,
                ts,
                speed: f("speed_kmh")?,
                temp: f("engine_temp_c")?,
                fuel: f("fuel_pct")?,
                accel: f("accel_mps2")?,
            };
            out.push((id.to_string(), reading));
        }
        Ok(out)
    }

    #[test]
    fn planted_events_cross_thresholds_and_normal_readings_do_not() -> TestResult {
        let n = 20_000;
        let all = readings(42, n)?;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (id, r) in &all {
            match r.planted {
                Some("harsh-braking") => assert!(r.accel <= -8.0 && r.temp < 105.0, "{id}"),
                Some("over-temperature") => assert!(r.temp >= 115.0 && r.accel > -5.0, "{id}"),
                other => {
                    assert_eq!(other, None, "unexpected label");
                    assert!(r.accel > -5.0 && r.temp < 105.0 && (80.0..=104.0).contains(&r.temp));
                }
            }
            if let Some(label) = r.planted {
                *counts.entry(label).or_default() += 1;
            }
            assert!((0.0..=130.0).contains(&r.speed) && (0.0..=100.0).contains(&r.fuel));
        }
        println!("telemetry planted over {n} records: {counts:?}");
        for label in ["harsh-braking", "over-temperature"] {
            let share = counts.get(label).copied().unwrap_or(0) as f64 / n as f64;
            assert!((0.003..0.008).contains(&share), "{label}: {share}");
        }
        Ok(())
    }

    #[test]
    fn hot_engines_run_hot_for_five_minutes_from_the_middle() -> TestResult {
        // 20 minutes of telemetry: vehicles v-009, v-036 and v-045 run hot
        // in minutes 10 to 14.
        let count = 60_000;
        let (mut plain, mut hot) = (Telemetry::new(7), Telemetry::with_hot_engines(7, 3, count));
        let (from, until) = (EPOCH_MS + 600_000, EPOCH_MS + 900_000);
        let mut labelled: BTreeMap<String, usize> = BTreeMap::new();
        // Per vehicle, its readings of the five minutes planted otherwise.
        let mut planted: BTreeMap<String, usize> = BTreeMap::new();
        let mut changed = std::collections::BTreeSet::new();
        // Per hot vehicle, in minutes 11 to 14: the sum of the hot and of
        // the plain temperatures, and the readings.
        let mut sums: BTreeMap<String, (f64, f64, u32)> = BTreeMap::new();
        for _ in 0..count {
            let (p, h) = (plain.next_record(), hot.next_record());
            assert_eq!((&p.key, p.timestamp_ms), (&h.key, h.timestamp_ms));
            let id = String::from_utf8(h.key.clone())?;
            let (pv, hv) = (parse_value(&p.value, KEYS)?, parse_value(&h.value, KEYS)?);
            let temp = |v: &serde_json::Value| v["engine_temp_c"].as_f64().unwrap_or(f64::NAN);
            let (pt, ht) = (temp(&pv), temp(&hv));
            if h.planted == Some("hot-engine") {
                assert!(
                    (from..until).contains(&h.timestamp_ms),
                    "{id} at {}",
                    h.timestamp_ms
                );
                *labelled.entry(id.clone()).or_default() += 1;
            } else {
                assert_eq!(h.planted, p.planted);
                if h.planted.is_some() && (from..until).contains(&h.timestamp_ms) {
                    *planted.entry(id.clone()).or_default() += 1;
                }
            }
            if p.value != h.value {
                assert!(h.timestamp_ms >= from, "{id} changed before the episode");
                let mut same = hv.clone();
                same["engine_temp_c"] = pv["engine_temp_c"].clone();
                assert_eq!(same, pv, "only the engine temperature changes");
                changed.insert(id.clone());
            }
            if h.planted != Some("over-temperature") {
                assert!(ht < 105.0, "{id}: {ht}");
            }
            if h.planted == Some("hot-engine") && h.timestamp_ms >= from + 60_000 {
                let s = sums.entry(id).or_default();
                *s = (s.0 + ht, s.1 + pt, s.2 + 1);
            }
        }
        let hot_ids: Vec<&str> = labelled.keys().map(String::as_str).collect();
        assert_eq!(hot_ids, ["v-009", "v-036", "v-045"]);
        assert_eq!(
            changed.iter().map(String::as_str).collect::<Vec<_>>(),
            hot_ids
        );
        for (id, n) in &labelled {
            let others = planted.get(id).copied().unwrap_or(0);
            assert_eq!(n + others, 300, "{id}: every reading of the five minutes");
            assert!(others < 20, "{id}: {others} planted otherwise");
        }
        for (id, (hot_sum, plain_sum, n)) in &sums {
            let (hot_mean, plain_mean) = (hot_sum / f64::from(*n), plain_sum / f64::from(*n));
            assert!(
                hot_mean > plain_mean + 9.0 && hot_mean > 99.0,
                "{id}: {hot_mean} hot, {plain_mean} normal"
            );
        }
        // None hot: as without the option; more than there are: all of them.
        let mut none = Telemetry::with_hot_engines(7, 0, count);
        let mut plain = Telemetry::new(7);
        for _ in 0..2_000 {
            assert_eq!(none.next_record(), plain.next_record());
        }
        let all = Telemetry::with_hot_engines(7, 1_000, count);
        assert_eq!(all.hot.map(|h| h.vehicles), Some((1 << VEHICLES) - 1));
        Ok(())
    }

    #[test]
    fn vehicles_report_every_second_with_smooth_motion() -> TestResult {
        let all = readings(7, 10_000)?;
        let ids: std::collections::BTreeSet<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), VEHICLES);
        let mut last: BTreeMap<&str, &Reading> = BTreeMap::new();
        let mut prev_ts = EPOCH_MS;
        let mut fuel_drop = 0.0;
        for (id, r) in &all {
            assert!(r.ts >= prev_ts);
            prev_ts = r.ts;
            if let Some(p) = last.insert(id.as_str(), r) {
                assert!(
                    (980..=1_020).contains(&(r.ts - p.ts)),
                    "{id}: gap {}",
                    r.ts - p.ts
                );
                // The printed acceleration explains the printed speed change.
                assert!((r.speed - p.speed - 3.6 * r.accel).abs() < 0.45, "{id}");
                if r.planted.is_none() && p.planted.is_none() {
                    assert!(
                        (r.temp - p.temp).abs() < 2.0,
                        "{id}: {} -> {}",
                        p.temp,
                        r.temp
                    );
                }
                if r.fuel < p.fuel {
                    fuel_drop += p.fuel - r.fuel;
                }
            }
        }
        assert!(fuel_drop > 10.0, "{fuel_drop}");
        Ok(())
    }
}
