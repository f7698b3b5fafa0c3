// Log lines in weir's log, with the plugin's name (the `log` import).

import { log as write } from "weir:plugin/log@0.2.0";

// Lines logged while the component is being pre-initialized at build time
// (top-level code of the plugin) cannot reach the host yet; they are kept
// and written at the first call from weir.
let live = false;
const early = [];

function line(level, message) {
  if (live) write(level, String(message));
  else early.push([level, String(message)]);
}

/** Called by the SDK when weir first calls the plugin. */
export function goLive() {
  if (live) return;
  live = true;
  for (const [level, message] of early.splice(0)) write(level, message);
}

/** A very detailed diagnostic. */
export function trace(message) {
  line("trace", message);
}

/** A diagnostic for plugin authors. */
export function debug(message) {
  line("debug", message);
}

/** Normal operation. */
export function info(message) {
  line("info", message);
}

/** Something unexpected the plugin handled. */
export function warn(message) {
  line("warn", message);
}

/** A failure. */
export function error(message) {
  line("error", message);
}
