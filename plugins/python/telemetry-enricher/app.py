"""Enricher plugin: adds mph/°F, driving events and the geofence zone to
vehicle telemetry, and emits one event record per event (the Python twin of
plugins/rust/telemetry-enricher).

Settings: `harsh_braking_mps2` (default -7.0), `max_engine_temp_c` (default
110.0), `zones` (`"name:lat_min,lon_min,lat_max,lon_max;..."`, default
none).
"""

import weir_plugin as weir

KMH_PER_MPH = 1.609344
HARSH_BRAKING = "harsh-braking"
OVER_TEMPERATURE = "over-temperature"
FORM = "name:lat_min,lon_min,lat_max,lon_max"


def parse_zones(spec):
    """`[(name, lat_min, lon_min, lat_max, lon_max)]` from the setting."""
    zones = []
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, sep, coords = part.partition(":")
        if not sep:
            raise weir.SettingError(f"setting `zones`: zone {part!r} is not of the form {FORM}")
        name = name.strip()
        if not name:
            raise weir.SettingError(f"setting `zones`: zone {part!r} has no name")
        try:
            values = [float(v) for v in coords.split(",")]
        except ValueError as e:
            raise weir.SettingError(f"setting `zones`: zone {name!r}: bad coordinate: {e}") from None
        if len(values) != 4:
            raise weir.SettingError(
                f"setting `zones`: zone {name!r} has {len(values)} coordinates, expected 4 ({FORM})"
            )
        lat_min, lon_min, lat_max, lon_max = values
        if lat_min > lat_max or lon_min > lon_max:
            raise weir.SettingError(f"setting `zones`: zone {name!r} has a minimum above its maximum")
        zones.append((name, lat_min, lon_min, lat_max, lon_max))
    return zones


def number(t, field):
    value = t[field]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a JSON telemetry object: `{field}` is not a number")
    return value


class TelemetryEnricher(weir.Enricher):
    def init(self, settings):
        self.harsh_braking = settings.parse_or("harsh_braking_mps2", -7.0)
        self.max_engine_temp = settings.parse_or("max_engine_temp_c", 110.0)
        self.zones = parse_zones(settings.get("zones", ""))

    def enrich(self, record, out):
        t = record.json()
        if not isinstance(t, dict):
            raise ValueError("not a JSON telemetry object: value is not a JSON object")
        vehicle_id, ts = t["vehicle_id"], t["ts"]
        if not isinstance(vehicle_id, str):
            raise ValueError("not a JSON telemetry object: `vehicle_id` is not a string")
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise ValueError("not a JSON telemetry object: `ts` is not an integer")
        lat, lon = number(t, "lat"), number(t, "lon")
        speed, temp, accel = number(t, "speed_kmh"), number(t, "engine_temp_c"), number(t, "accel_mps2")

        events = []
        if accel <= self.harsh_braking:
            events.append(HARSH_BRAKING)
        if temp >= self.max_engine_temp:
            events.append(OVER_TEMPERATURE)
        zone = next(
            (z[0] for z in self.zones if z[1] <= lat <= z[3] and z[2] <= lon <= z[4]),
            None,
        )
        enriched = dict(t)
        enriched["speed_mph"] = speed / KMH_PER_MPH
        enriched["engine_temp_f"] = temp * 9.0 / 5.0 + 32.0
        enriched["events"] = events
        enriched["zone"] = zone
        out.emit(enriched)
        for event in events:
            out.emit_with(
                record.key,
                {"vehicle_id": vehicle_id, "ts": ts, "event": event},
                [("weir-event", event)],
            )
