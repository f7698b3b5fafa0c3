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

/**
 * The values stored under each of `keys` (Uint8Arrays, or null where a key
 * has none), read in one host call: for a plugin that reads the state of a
 * whole batch's keys at once.
 */
export function getMany(keys) {
  const { data, ends, found } = raw.getMany([...keys]);
  const values = [];
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    values.push(found[i] ? data.slice(start, ends[i]) : null);
    start = ends[i];
  }
  return values;
}

/** Stores each `[key, value]` of `entries` in order, in one host call. */
export function setMany(entries) {
  const keys = [];
  const values = [];
  for (const [key, value] of entries) {
    keys.push(key);
    values.push(toBytes(value));
  }
  raw.setMany(keys, values);
}
