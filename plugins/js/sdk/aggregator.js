// The aggregator kind: fold records into the host's event-time windows and
// turn each closed window into records.

import { Emitter } from "./emitter.js";
import { describe, fileOf, parseStack } from "./errors.js";
import { exportsOf, notAPromise, recordError } from "./kinds.js";
import * as log from "./log.js";
import { Record, View } from "./record.js";

// Frames from this file down are the SDK's, left out of reported stacks.
const HERE = fileOf(parseStack(new Error().stack)[0]?.location ?? "");

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** One event-time window, as the host assigned it. */
export class Window {
  constructor(key, start, end) {
    /** The window's key (Uint8Array): its records' key, or empty for
     * per-partition windows. */
    this.key = key;
    /** Window start, ms since the Unix epoch (inclusive), a number. */
    this.start = Number(start);
    /** Window end, ms since the Unix epoch (exclusive), a number. */
    this.end = Number(end);
  }

  /** The key as text; null when it is empty or not UTF-8. */
  keyText() {
    try {
      return this.key.length === 0 ? null : utf8.decode(this.key);
    } catch {
      return null;
    }
  }
}

/** Where an aggregator puts the records it makes from a closed window:
 * `emit(value, { headers })` keys them by the window's key (none for a
 * per-partition window) unless `key` is given. */
export class WindowEmitter extends Emitter {
  emit(value, options = undefined) {
    const key = options === undefined || options.key === undefined ? this._key : options.key;
    return super.emit(value, { key, headers: options?.headers });
  }
}

function checked(result, method) {
  if (result !== null && typeof result === "object" && typeof result.then === "function") throw notAPromise(method);
  return result;
}

/**
 * An aggregator: `accumulate(window, acc, record)` returns the accumulator
 * with the record folded in, `emit(window, acc, out)` turns a closed
 * window's final accumulator into records. Optional: `zero(window)` (the
 * accumulator of a new window, default null), and `load(window, bytes)` /
 * `save(acc)` (the bytes weir keeps: JSON by default). Per batch and
 * window the SDK calls `load` once, `accumulate` per record and `save`
 * once. Keep no window data on the plugin: an instance may be recreated at
 * any time.
 */
export function aggregator(plugin) {
  const zero = (window) => (plugin.zero === undefined ? null : checked(plugin.zero(window), "zero"));
  const load = (window, saved) => {
    if (plugin.load !== undefined) return checked(plugin.load(window, saved), "load");
    return saved === undefined ? zero(window) : JSON.parse(utf8.decode(saved));
  };
  const save = (acc) => {
    if (plugin.save !== undefined) return checked(plugin.save(acc), "save");
    const text = JSON.stringify(acc);
    if (text === undefined) throw new TypeError(`an accumulator of type ${typeof acc} is not JSON`);
    return encoder.encode(text);
  };
  return exportsOf("aggregator", ["accumulate", "emit"], plugin, {
    accumulate(batch, groups) {
      const view = new View(batch);
      const accumulators = [];
      const errors = [];
      for (const group of groups) {
        const window = new Window(group.key, group.start, group.end);
        const saved = group.accumulator ?? undefined;
        let acc;
        try {
          acc = load(window, saved);
        } catch (error) {
          const message = `cannot load the window's accumulator: ${describe(error, HERE)}`;
          for (const i of group.records) errors.push({ index: i, message });
          accumulators.push(saved ?? new Uint8Array(0));
          continue;
        }
        for (const i of group.records) {
          try {
            acc = checked(plugin.accumulate(window, acc, new Record(view, i)), "accumulate");
          } catch (error) {
            errors.push(recordError(i, error, HERE));
          }
        }
        accumulators.push(save(acc));
      }
      return { accumulators, errors };
    },
    emit(windows) {
      const out = new WindowEmitter();
      out._record = null;
      for (let i = 0; i < windows.length; i++) {
        const closed = windows[i];
        const window = new Window(closed.key, closed.start, closed.end);
        const mark = out._mark();
        out._input = i;
        out._key = window.key.length === 0 ? null : window.key;
        try {
          checked(plugin.emit(window, load(window, closed.accumulator), out), "emit");
        } catch (error) {
          out._rewind(mark);
          log.error(`window ${window.start}..${window.end} of key ${JSON.stringify(window.keyText() ?? "")} skipped: ${describe(error, HERE)}`);
        }
      }
      return { records: out._columns(), windows: out._inputsView() };
    },
  });
}
