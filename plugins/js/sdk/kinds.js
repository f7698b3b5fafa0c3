// The plugin kinds: each turns a plugin object into the object that the
// component exports for its WIT interface (`init` and `process`), running
// the plugin's method on every record of a batch.

import { describe, fileOf, parseStack } from "./errors.js";
import { Emitter } from "./emitter.js";
import * as log from "./log.js";
import { Record, View } from "./record.js";
import { Settings } from "./settings.js";

// This file, as stack frames name it: an error's frames from here down are
// the SDK's and the bindings', and are left out of what weir reports.
const HERE = fileOf(parseStack(new Error().stack)[0]?.location ?? "");

/**
 * Thrown by a plugin (or any error whose class extends it), it fails the
 * whole call instead of one record: weir then handles the batch as a
 * failed call (retries, and the stage's failure policy). Any other error
 * thrown for a record fails that record alone.
 */
export class Fatal extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "Fatal";
  }
}

/** One record's (or step's) error, unless `error` is a Fatal, which is
 * rethrown to fail the whole call. */
export function recordError(index, error, stopAt = HERE) {
  if (error instanceof Fatal) throw error;
  return { index, message: describe(error, stopAt) };
}

export function notAPromise(method) {
  return new TypeError(`${method} returned a promise; it must finish before returning`);
}

/** The exported interface object of a plugin of one kind: `init`, and a
 * `process` that runs `decide` on a view of the batch. */
function glue(kind, method, plugin, decide) {
  return exportsOf(kind, [method], plugin, { process: (batch) => decide(new View(batch)) });
}

/**
 * The exported interface object of a plugin of `kind`, which must have
 * the `methods`: `init`, and each of `calls` (the interface's functions,
 * by name) run so that an error escaping one fails the whole call, after
 * a log line that says why.
 */
export function exportsOf(kind, methods, plugin, calls) {
  for (const method of methods) {
    if (plugin === null || typeof plugin !== "object" || typeof plugin[method] !== "function") {
      throw new TypeError(`weir.${kind}(plugin): the plugin must be an object with a ${method} method`);
    }
  }
  const exported = {
    init(pairs) {
      log.goLive();
      const fail = (error) => ({ tag: "err", val: describe(error, HERE) });
      try {
        const result = plugin.init?.(new Settings(pairs));
        // The bindings wait for a promise: an async init works.
        if (result !== null && typeof result === "object" && typeof result.then === "function") {
          return result.then(() => undefined, fail);
        }
      } catch (error) {
        return fail(error);
      }
      return undefined;
    },
  };
  for (const [name, call] of Object.entries(calls)) {
    exported[name] = (...args) => {
      log.goLive();
      try {
        return call(...args);
      } catch (error) {
        // Rethrown, the error traps the instance and weir fails the call;
        // this line is what says why.
        log.error(`the call failed: ${describe(error, HERE)}`);
        throw error;
      }
    };
  }
  return exported;
}

/** A filter: `keep(record)` returns whether to keep the record. */
export function filter(plugin) {
  return glue("filter", "keep", plugin, (view) => {
    const keep = new Uint32Array(view.length);
    let kept = 0;
    const errors = [];
    for (let i = 0; i < view.length; i++) {
      try {
        const result = plugin.keep(new Record(view, i));
        if (typeof result === "object" && result !== null && typeof result.then === "function") throw notAPromise("keep");
        if (result) keep[kept++] = i;
      } catch (error) {
        errors.push(recordError(i, error));
      }
    }
    return { keep: keep.subarray(0, kept), errors };
  });
}

/** An enricher: `enrich(record, out)` emits zero or more records with
 * `out.emit(value, { key, headers })`. */
export function enricher(plugin) {
  return glue("enricher", "enrich", plugin, (view) => {
    const out = new Emitter();
    const errors = [];
    for (let i = 0; i < view.length; i++) {
      const mark = out._mark();
      const record = new Record(view, i);
      out._input = i;
      out._record = record;
      try {
        const result = plugin.enrich(record, out);
        if (result != null && typeof result.then === "function") throw notAPromise("enrich");
      } catch (error) {
        out._rewind(mark);
        errors.push(recordError(i, error));
      }
    }
    out._record = null;
    return { records: out._columns(), inputs: out._inputsView(), errors };
  });
}

const NO_LABELS = [];

/** The labels of what a scorer returned for one record (checked first,
 * so that a bad one leaves no labels behind). */
function labelsOf(result) {
  if (typeof result === "number") return NO_LABELS;
  if (result !== null && typeof result === "object" && typeof result.value === "number") {
    if (result.labels === undefined) return NO_LABELS;
    const labels = Array.isArray(result.labels) ? result.labels : Array.from(result.labels);
    for (let l = 0; l < labels.length; l++) {
      if (typeof labels[l] !== "string") throw new TypeError(`a score's labels must be strings, not ${typeof labels[l]}`);
    }
    return labels;
  }
  throw new TypeError(`score must return a number or { value, labels }, not ${typeof result}`);
}

/** A scorer: `score(record)` returns a number or `{ value, labels }`. */
export function scorer(plugin) {
  return glue("scorer", "score", plugin, (view) => {
    // The element type must be the WIT's (`list<f64>`): the bindings copy the bytes.
    const scores = new Float64Array(view.length);
    const labels = [];
    const errors = [];
    for (let i = 0; i < view.length; i++) {
      try {
        const result = plugin.score(new Record(view, i));
        if (typeof result === "object" && result !== null && typeof result.then === "function") throw notAPromise("score");
        const texts = labelsOf(result);
        scores[i] = typeof result === "number" ? result : result.value;
        for (let l = 0; l < texts.length; l++) labels.push({ index: i, text: texts[l] });
      } catch (error) {
        errors.push(recordError(i, error));
      }
    }
    return { scores, labels, errors };
  });
}
