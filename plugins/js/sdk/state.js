// Per-plugin key-value state, kept by weir and checkpointed with the
// source positions.

import * as raw from "weir:plugin/state@0.2.0";
import { toBytes } from "./bytes.js";

/** The value stored under `key` (a Uint8Array), or null. */
export function get(key) {
  return raw.get(key) ?? null;
}

/** Stores `value` (bytes, text, or anything else as JSON) under `key`. */
export function set(key, value) {
  raw.set(key, toBytes(value));
}

/** Removes `key`; removing a missing key is not an error. */
function remove(key) {
  raw.delete(key);
}
export { remove as delete };
