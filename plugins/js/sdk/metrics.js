// Metrics, exported by weir with the prefix `weir_plugin_` and a `plugin`
// label (counters also get the suffix `_total`).

import * as raw from "weir:plugin/metrics@0.2.0";

/** Adds `delta` (a whole number, default 1) to the counter `name`. */
export function counterAdd(name, delta = 1) {
  raw.counterAdd(name, BigInt(delta));
}

/** Sets the gauge `name`. */
export function gaugeSet(name, value) {
  raw.gaugeSet(name, Number(value));
}

/** Records one observation in the histogram `name`. */
export function histogramObserve(name, value) {
  raw.histogramObserve(name, Number(value));
}
