// Enricher plugin: adds mph/°F, driving events and the geofence zone to
// vehicle telemetry, and emits one event record per event (the JS twin of
// plugins/rust/telemetry-enricher, byte for byte: the input object is
// kept as written and extended, numbers read and written as serde_json
// does).
//
// Settings: `harsh_braking_mps2` (default -7.0), `max_engine_temp_c`
// (default 110.0), `zones` (`"name:lat_min,lon_min,lat_max,lon_max;..."`,
// default none).

import * as weir from "../sdk/weir.js";
import * as serde from "../lib/serde.js";

const KMH_PER_MPH = 1.609344;
const HARSH_BRAKING = "harsh-braking";
const OVER_TEMPERATURE = "over-temperature";
const FORM = "name:lat_min,lon_min,lat_max,lon_max";

const Telemetry = serde.struct({
  vehicle_id: "str",
  ts: "i64",
  lat: "f64",
  lon: "f64",
  speed_kmh: "f64",
  engine_temp_c: "f64",
  accel_mps2: "f64",
});

/** `[{ name, latMin, lonMin, latMax, lonMax }]` from the setting. */
export function parseZones(spec) {
  const zones = [];
  for (const part of spec.split(";").map((p) => p.trim())) {
    if (!part) continue;
    const colon = part.indexOf(":");
    if (colon < 0) {
      throw new weir.SettingError(`setting \`zones\`: zone ${JSON.stringify(part)} is not of the form ${FORM}`);
    }
    const name = part.slice(0, colon).trim();
    if (!name) throw new weir.SettingError(`setting \`zones\`: zone ${JSON.stringify(part)} has no name`);
    const values = part.slice(colon + 1).split(",").map((v) => {
      const value = weir.parseNumber(v.trim());
      if (value === undefined) {
        const why = v.trim() ? "invalid float literal" : "cannot parse float from empty string";
        throw new weir.SettingError(`setting \`zones\`: zone ${JSON.stringify(name)}: bad coordinate ${JSON.stringify(v.trim())}: ${why}`);
      }
      return value;
    });
    if (values.length !== 4) {
      throw new weir.SettingError(
        `setting \`zones\`: zone ${JSON.stringify(name)} has ${values.length} coordinates, expected 4 (${FORM})`,
      );
    }
    const [latMin, lonMin, latMax, lonMax] = values;
    if (latMin > latMax || lonMin > lonMax) {
      throw new weir.SettingError(`setting \`zones\`: zone ${JSON.stringify(name)} has a minimum above its maximum`);
    }
    zones.push({ name, latMin, lonMin, latMax, lonMax });
  }
  return zones;
}

export const enricherPlugin = weir.enricher({
  init(settings) {
    this.harshBraking = settings.parseOr("harsh_braking_mps2", -7.0);
    this.maxEngineTemp = settings.parseOr("max_engine_temp_c", 110.0);
    this.zones = parseZones(settings.get("zones", ""));
  },

  enrich(record, out) {
    const text = record.text();
    let t;
    try {
      t = Telemetry.read(text);
    } catch (e) {
      throw new Error(`not a JSON telemetry object: ${e.message}`);
    }
    // A struct can be read from an array too; we splice into an object.
    const object = text.trim();
    if (!object.startsWith("{") || !object.endsWith("}")) {
      throw new Error("not a JSON telemetry object: value is not a JSON object");
    }

    const events = [];
    if (t.accel_mps2 <= this.harshBraking) events.push(HARSH_BRAKING);
    if (t.engine_temp_c >= this.maxEngineTemp) events.push(OVER_TEMPERATURE);
    const zone = this.zones.find(
      (z) => z.latMin <= t.lat && t.lat <= z.latMax && z.lonMin <= t.lon && t.lon <= z.lonMax,
    );

    out.emit(
      `${object.slice(0, -1)},"speed_mph":${serde.writeF64(t.speed_kmh / KMH_PER_MPH)}` +
        `,"engine_temp_f":${serde.writeF64((t.engine_temp_c * 9.0) / 5.0 + 32.0)}` +
        `,"events":${JSON.stringify(events)},"zone":${zone ? JSON.stringify(zone.name) : "null"}}`,
    );
    for (const event of events) {
      out.emit(`{"vehicle_id":${JSON.stringify(t.vehicle_id)},"ts":${t.ts},"event":"${event}"}`, {
        headers: [["weir-event", event]],
      });
    }
  },
});
