// `console` for plugins: each call is one line in the plugin's log. The
// components are built without WASI (`--disable` every feature), where
// StarlingMonkey's own console writes nowhere.

import * as log from "./log.js";
import { describe } from "./errors.js";

function show(value) {
  if (typeof value === "string") return value;
  if (value instanceof Error) return describe(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `${value.constructor.name}(${value.length}) [${Array.prototype.join.call(value, ", ")}]`;
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) {
    try {
      const text = JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
      if (text !== undefined) return text;
    } catch {
      // A cycle, or a throwing toJSON: fall back to the plain string.
    }
  }
  return String(value);
}

/** The text of one console call: the arguments shown and joined by spaces. */
export function format(args) {
  return args.map(show).join(" ");
}

const counts = new Map();

export const console = {
  log: (...args) => log.info(format(args)),
  info: (...args) => log.info(format(args)),
  debug: (...args) => log.debug(format(args)),
  warn: (...args) => log.warn(format(args)),
  error: (...args) => log.error(format(args)),
  trace: (...args) => log.trace(describe(Object.assign(new Error(format(args)), { name: "Trace" }))),
  assert: (condition, ...args) => {
    if (!condition) log.error(format(["Assertion failed:", ...args]));
  },
  count: (label = "default") => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    log.info(`${label}: ${n}`);
  },
};

globalThis.console = console;
