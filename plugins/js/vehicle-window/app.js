// Aggregator plugin: per-vehicle statistics over the host's event-time
// windows of vehicle telemetry (the JS twin of plugins/rust/vehicle-window:
// readings read as its serde struct, summaries written as serde_json
// writes them).
//
// Setting `harsh_braking_mps2` (default -7.0): a reading with `accel_mps2`
// at or below it counts as harsh braking. The accumulator is the SDK's
// default, JSON: [count, speed sum, max speed, harsh brakings, max engine
// temperature].

import * as weir from "../sdk/weir.js";
import * as serde from "../lib/serde.js";

const Reading = serde.struct({ speed_kmh: "f64", engine_temp_c: "f64", accel_mps2: "f64" });

export const aggregatorPlugin = weir.aggregator({
  init(settings) {
    this.harsh = settings.parseOr("harsh_braking_mps2", -7.0);
    if (!Number.isFinite(this.harsh)) {
      throw new weir.SettingError("setting `harsh_braking_mps2` must be a finite number");
    }
  },

  zero() {
    return [0, 0, 0, 0, 0];
  },

  accumulate(window, [count, total, top, harsh, hottest], record) {
    let r;
    try {
      r = Reading.read(record.text());
    } catch (e) {
      throw new Error(`not a JSON telemetry object: ${e.message}`);
    }
    if (count === 0) {
      top = r.speed_kmh;
      hottest = r.engine_temp_c;
    } else {
      top = Math.max(top, r.speed_kmh);
      hottest = Math.max(hottest, r.engine_temp_c);
    }
    if (r.accel_mps2 <= this.harsh) harsh += 1;
    return [count + 1, total + r.speed_kmh, top, harsh, hottest];
  },

  emit(window, [count, total, top, harsh, hottest], out) {
    if (count === 0) return;
    out.emit(
      `{"vehicle":${JSON.stringify(window.keyText())},"window_start":${window.start}` +
        `,"window_end":${window.end},"count":${count}` +
        `,"avg_speed_kmh":${serde.writeF64(total / count)},"max_speed_kmh":${serde.writeF64(top)}` +
        `,"harsh_brakings":${harsh},"max_engine_temp_c":${serde.writeF64(hottest)}}`,
    );
  },
});
