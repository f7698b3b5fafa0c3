// Records: views into the columnar batch weir hands a plugin (see the
// `columns` record in wit/types.wit). Reading a field copies nothing but
// the field; values, keys and header values are views into the batch.

import { toBytes } from "./bytes.js";

// Strict like Python's bytes.decode: invalid UTF-8 is an error, and a
// leading byte-order mark stays in the text (JSON does not allow it).
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// Header names are UTF-8 by contract; a bad one is shown, not fatal.
const lossy = new TextDecoder("utf-8");

function start(ends, i) {
  return i === 0 ? 0 : ends[i - 1];
}

/** The columns of one batch, as the bindings give them. */
export class View {
  constructor(batch) {
    const c = batch.records;
    this.origin = batch.origin;
    this.partition = batch.partition;
    this.values = c.values;
    this.valueEnds = c.valueEnds;
    this.keys = c.keys;
    this.keyEnds = c.keyEnds;
    this.hasKey = c.hasKey;
    this.headerEnds = c.headerEnds;
    this.headerData = c.headerData;
    this.headerDataEnds = c.headerDataEnds;
    this.timestamps = batch.timestamps;
    this.positions = batch.positions;
    this.positionEnds = batch.positionEnds;
    this.length = c.valueEnds.length;
  }
}

/** A batch of one record, for `Record.of`. */
function single(value, { key = null, headers = [], timestampMs = 0, position = "0" }) {
  const data = [];
  const dataEnds = [];
  let length = 0;
  for (const [name, val] of headers) {
    for (const part of [toBytes(String(name)), toBytes(val)]) {
      data.push(...part);
      length += part.length;
      dataEnds.push(length);
    }
  }
  const bytes = toBytes(value);
  const keyBytes = key === null ? new Uint8Array(0) : toBytes(key);
  const pos = toBytes(String(position));
  return {
    origin: "test",
    partition: "0",
    records: {
      values: bytes,
      valueEnds: new Uint32Array([bytes.length]),
      keys: keyBytes,
      keyEnds: new Uint32Array([keyBytes.length]),
      hasKey: new Uint8Array([key === null ? 0 : 1]),
      headerEnds: new Uint32Array([headers.length]),
      headerData: new Uint8Array(data),
      headerDataEnds: new Uint32Array(dataEnds),
    },
    timestamps: new BigInt64Array([BigInt(timestampMs)]),
    positions: pos,
    positionEnds: new Uint32Array([pos.length]),
  };
}

/** One record of a batch. */
export class Record {
  constructor(view, index) {
    this._v = view;
    /** The record's index in its batch. */
    this.index = index;
  }

  /**
   * A record on its own, for testing a plugin's logic under Node.
   * `value` and `key` are bytes or text, `headers` `[name, value]` pairs.
   */
  static of(value, options = {}) {
    return new Record(new View(single(value, options)), 0);
  }

  /** The payload, a Uint8Array. */
  get value() {
    const v = this._v;
    return v.values.subarray(start(v.valueEnds, this.index), v.valueEnds[this.index]);
  }

  /** The key, a Uint8Array, or null when the record has none (which is not
   * the same as an empty key). */
  get key() {
    const v = this._v;
    if (!v.hasKey[this.index]) return null;
    return v.keys.subarray(start(v.keyEnds, this.index), v.keyEnds[this.index]);
  }

  /** The headers, in order, as `[name, value]` pairs (value a Uint8Array). */
  get headers() {
    const v = this._v;
    const ends = v.headerDataEnds;
    const out = [];
    for (let h = start(v.headerEnds, this.index); h < v.headerEnds[this.index]; h++) {
      const nameStart = start(ends, 2 * h);
      const name = lossy.decode(v.headerData.subarray(nameStart, ends[2 * h]));
      out.push([name, v.headerData.subarray(ends[2 * h], ends[2 * h + 1])]);
    }
    return out;
  }

  /** The value of the first header called `name`, or null. */
  header(name) {
    const headers = this.headers;
    for (let h = 0; h < headers.length; h++) {
      if (headers[h][0] === name) return headers[h][1];
    }
    return null;
  }

  /** When the record was produced, in ms since the Unix epoch. */
  get timestampMs() {
    return Number(this._v.timestamps[this.index]);
  }

  /** Its offset or sequence number in its partition or shard. */
  get position() {
    const v = this._v;
    const digits = v.positions.subarray(start(v.positionEnds, this.index), v.positionEnds[this.index]);
    return String.fromCharCode.apply(null, digits);
  }

  /** The topic or stream it came from. */
  get origin() {
    return this._v.origin;
  }

  /** Its partition or shard. */
  get partition() {
    return this._v.partition;
  }

  /** The value as UTF-8 text; a TypeError when it is not UTF-8. */
  text() {
    return utf8.decode(this.value);
  }

  /** The value parsed as JSON (strictly: JSON.parse of `text()`). */
  json() {
    return JSON.parse(this.text());
  }
}
