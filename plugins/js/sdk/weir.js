// Write weir plugins in JavaScript.
//
// A plugin module exports the object of its kind under the name of the
// WIT interface it implements (`filterPlugin`, `enricherPlugin`,
// `scorerPlugin`, `rewardPlugin`, `aggregatorPlugin`):
//
//     import * as weir from "../sdk/weir.js";
//
//     export const filterPlugin = weir.filter({
//       init(settings) {
//         this.minAmount = settings.require("min_amount", Number);
//       },
//       keep(record) {
//         return record.json().amount > this.minAmount;
//       },
//     });
//
// `weir plugin build` builds it with componentize-js against weir's WIT.
// The kinds and their methods are those of the Python and Rust SDKs:
//
// - `weir.filter`   — `keep(record)` → boolean
// - `weir.enricher` — `enrich(record, out)`, emitting with `out.emit(...)`
// - `weir.scorer`   — `score(record)` → number or `{ value, labels }`
// - `weir.reward`   — `reward(params)` → number, from DeepRacer's `params`
//   (`weir.deepracer(rewardFunction)` wraps a plain function)
// - `weir.aggregator` — `accumulate(window, acc, record)` → acc, and
//   `emit(window, acc, out)` for a closed window; optional `zero(window)`,
//   `load(window, bytes)` and `save(acc)` (JSON by default)
//
// An error thrown for one record fails that record alone: it goes to the
// pipeline's failure destination with its message and stack. A
// `weir.Fatal` fails the whole call instead. An error thrown in `init`
// rejects the plugin with its message and stack. `console.log` and the
// other console methods write to the plugin's log; no WASI grant is needed.

import "./console.js";

export { enricher, Fatal, filter, scorer } from "./kinds.js";
export { aggregator, Window, WindowEmitter } from "./aggregator.js";
export { deepracer, params, reward } from "./reward.js";
export { Emitter } from "./emitter.js";
export { Record } from "./record.js";
export { parseNumber, SettingError, Settings } from "./settings.js";
export * as log from "./log.js";
export * as metrics from "./metrics.js";
export * as state from "./state.js";
