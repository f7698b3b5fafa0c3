"""Aggregator plugin: per-vehicle statistics over the host's event-time
windows of vehicle telemetry (the Python twin of plugins/rust/vehicle-window).

Setting `harsh_braking_mps2` (default -7.0): a reading with `accel_mps2` at
or below it counts as harsh braking. The accumulator is the SDK's default,
JSON: [count, speed sum, max speed, harsh brakings, max engine temperature].
"""

import math

import weir_plugin as weir


def number(reading, name):
    value = reading[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{name}` is not a number: {value!r}")
    return float(value)


class VehicleWindow(weir.Aggregator):
    def init(self, settings):
        self.harsh = settings.parse_or("harsh_braking_mps2", -7.0)
        if not math.isfinite(self.harsh):
            raise ValueError("setting `harsh_braking_mps2` must be a finite number")

    def zero(self, window):
        return [0, 0.0, 0.0, 0, 0.0]

    def accumulate(self, window, acc, record):
        r = record.json()
        speed, temp, accel = (number(r, k) for k in ("speed_kmh", "engine_temp_c", "accel_mps2"))
        count, total, top, harsh, hottest = acc
        if count == 0:
            top, hottest = speed, temp
        else:
            top, hottest = max(top, speed), max(hottest, temp)
        if accel <= self.harsh:
            harsh += 1
        return [count + 1, total + speed, top, harsh, hottest]

    def emit(self, window, acc, out):
        count, total, top, harsh, hottest = acc
        if count == 0:
            return
        out.emit({
            "vehicle": window.key_text(),
            "window_start": window.start,
            "window_end": window.end,
            "count": count,
            "avg_speed_kmh": total / count,
            "max_speed_kmh": top,
            "harsh_brakings": harsh,
            "max_engine_temp_c": hottest,
        })
