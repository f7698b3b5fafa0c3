//! Enricher plugin: adds mph/°F, driving events and the geofence zone to vehicle telemetry, and emits one event record per event.
//!
//! Settings: `harsh_braking_mps2` (default -7.0), `max_engine_temp_c`
//! (default 110.0), `zones` (`"name:lat_min,lon_min,lat_max,lon_max;..."`,
//! default none).
//!
//! For each input it emits the input object extended with `speed_mph`,
//! `engine_temp_f`, `events` and `zone` (same key and headers), then for each
//! event a record `{"vehicle_id":..,"ts":..,"event":".."}` with the same key
//! and the header `weir-event: <event>`.

use std::borrow::Cow;

use serde::Deserialize;
use weir_plugin::{Emitter, Enricher, Record, Settings};

const KMH_PER_MPH: f64 = 1.609_344;
const HARSH_BRAKING: &str = "harsh-braking";
const OVER_TEMPERATURE: &str = "over-temperature";

/// The telemetry fields the enricher reads.
#[derive(Deserialize)]
struct Telemetry<'a> {
    #[serde(borrow)]
    vehicle_id: Cow<'a, str>,
    ts: i64,
    lat: f64,
    lon: f64,
    speed_kmh: f64,
    engine_temp_c: f64,
    accel_mps2: f64,
}

/// A named latitude/longitude rectangle (bounds inclusive).
#[derive(Debug, PartialEq)]
struct Zone {
    name: String,
    lat_min: f64,
    lon_min: f64,
    lat_max: f64,
    lon_max: f64,
}

impl Zone {
    fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.lat_min..=self.lat_max).contains(&lat) && (self.lon_min..=self.lon_max).contains(&lon)
    }
}

/// Parses `"name:lat_min,lon_min,lat_max,lon_max;name2:..."`.
fn parse_zones(spec: &str) -> Result<Vec<Zone>, String> {
    const FORM: &str = "name:lat_min,lon_min,lat_max,lon_max";
    let mut zones = Vec::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, coords)) = part.split_once(':') else {
            return Err(format!(
                "setting `zones`: zone {part:?} is not of the form {FORM}"
            ));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("setting `zones`: zone {part:?} has no name"));
        }
        let values = coords
            .split(',')
            .map(|v| {
                v.trim().parse::<f64>().map_err(|e| {
                    format!(
                        "setting `zones`: zone {name:?}: bad coordinate {:?}: {e}",
                        v.trim()
                    )
                })
            })
            .collect::<Result<Vec<f64>, String>>()?;
        let [lat_min, lon_min, lat_max, lon_max] = values[..] else {
            return Err(format!(
                "setting `zones`: zone {name:?} has {} coordinates, expected 4 ({FORM})",
                values.len()
            ));
        };
        if lat_min > lat_max || lon_min > lon_max {
            return Err(format!(
                "setting `zones`: zone {name:?} has a minimum above its maximum"
            ));
        }
        zones.push(Zone {
            name: name.to_owned(),
            lat_min,
            lon_min,
            lat_max,
            lon_max,
        });
    }
    Ok(zones)
}

/// The enricher, its thresholds and a reusable output buffer.
struct TelemetryEnricher {
    harsh_braking_mps2: f64,
    max_engine_temp_c: f64,
    zones: Vec<Zone>,
    buf: Vec<u8>,
}

/// Appends `value` as JSON (infallible for numbers, strings and options).
fn push_json<T: serde::Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(&mut *buf, value).expect("writing JSON to a Vec cannot fail");
}

impl Enricher for TelemetryEnricher {
    fn init(settings: &Settings) -> Result<Self, String> {
        Ok(Self {
            harsh_braking_mps2: settings.parse_or("harsh_braking_mps2", -7.0)?,
            max_engine_temp_c: settings.parse_or("max_engine_temp_c", 110.0)?,
            zones: parse_zones(settings.get("zones").unwrap_or(""))?,
            buf: Vec::with_capacity(512),
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Emitter<'_>) -> Result<(), String> {
        let value = record.value();
        let t: Telemetry<'_> = serde_json::from_slice(value)
            .map_err(|e| format!("not a JSON telemetry object: {e}"))?;
        // serde accepts a struct written as an array too; we splice into an object.
        let object = value.trim_ascii();
        let Some(body) = object.strip_prefix(b"{").and_then(|o| o.strip_suffix(b"}")) else {
            return Err("not a JSON telemetry object: value is not a JSON object".to_owned());
        };

        let mut events: [&str; 2] = [""; 2];
        let mut n_events = 0;
        if t.accel_mps2 <= self.harsh_braking_mps2 {
            events[n_events] = HARSH_BRAKING;
            n_events += 1;
        }
        if t.engine_temp_c >= self.max_engine_temp_c {
            events[n_events] = OVER_TEMPERATURE;
            n_events += 1;
        }
        let events = &events[..n_events];
        let zone = self.zones.iter().find(|z| z.contains(t.lat, t.lon));

        let buf = &mut self.buf;
        buf.clear();
        buf.push(b'{');
        buf.extend_from_slice(body);
        buf.extend_from_slice(b",\"speed_mph\":");
        push_json(buf, &(t.speed_kmh / KMH_PER_MPH));
        buf.extend_from_slice(b",\"engine_temp_f\":");
        push_json(buf, &(t.engine_temp_c * 9.0 / 5.0 + 32.0));
        buf.extend_from_slice(b",\"events\":");
        push_json(buf, events);
        buf.extend_from_slice(b",\"zone\":");
        push_json(buf, &zone.map(|z| z.name.as_str()));
        buf.push(b'}');
        out.emit(buf);

        for event in events {
            buf.clear();
            buf.extend_from_slice(b"{\"vehicle_id\":");
            push_json(buf, &t.vehicle_id);
            buf.extend_from_slice(b",\"ts\":");
            push_json(buf, &t.ts);
            buf.extend_from_slice(b",\"event\":");
            push_json(buf, event);
            buf.push(b'}');
            out.emit_with(record.key(), buf, &[("weir-event", event.as_bytes())]);
        }
        Ok(())
    }
}

weir_plugin::export_enricher!(TelemetryEnricher);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse() {
        let zones = parse_zones(" depot:52.0,13.0,53.0,14.0; ;yard : 1,2,3,4 ").unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones[1].name, "yard");
        assert!(zones[0].contains(52.52, 13.405));
        assert!(!zones[1].contains(52.52, 13.405));
        assert!(parse_zones("").unwrap().is_empty());
        let e = parse_zones("depot:1,2,3").unwrap_err();
        assert!(
            e.contains("\"depot\"") && e.contains("3 coordinates"),
            "{e}"
        );
        let e = parse_zones("depot:1,2,x,4").unwrap_err();
        assert!(e.contains("\"depot\"") && e.contains("\"x\""), "{e}");
        let e = parse_zones("depot").unwrap_err();
        assert!(e.contains("\"depot\""), "{e}");
        assert!(parse_zones("d:3,2,1,4").is_err());
    }
}
