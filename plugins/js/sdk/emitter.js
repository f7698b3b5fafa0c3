// Where an enricher puts the records it makes: the output columns of the
// `enrichment` (see wit/worlds.wit), built as the records are emitted.
//
// This is the enricher's hot path, run once per output record in
// StarlingMonkey's interpreter, where each call, allocation and iterator
// step costs: hence indexed loops, and the per-record columns written in
// place under one shared count rather than through five `push` calls.

import { Growable, toBytes } from "./bytes.js";

function start(ends, i) {
  return i === 0 ? 0 : ends[i - 1];
}

/** `headers` as an array of `[name, value]` pairs: from an array or other
 * iterable of pairs, or from a plain object of names to values. */
function pairsOf(headers) {
  if (Array.isArray(headers)) return headers;
  if (typeof headers !== "object" || headers === null) {
    throw new TypeError("headers must be [name, value] pairs or an object of names to values");
  }
  return typeof headers[Symbol.iterator] === "function" ? Array.from(headers) : Object.entries(headers);
}

export class Emitter {
  constructor() {
    this._values = new Growable(Uint8Array, 4096);
    this._keys = new Growable(Uint8Array);
    this._headerData = new Growable(Uint8Array);
    this._headerDataEnds = new Growable(Uint32Array);
    this._headers = 0;
    // One entry per output record, `_n` of them.
    this._n = 0;
    this._valueEnds = new Uint32Array(64);
    this._keyEnds = new Uint32Array(64);
    this._hasKey = new Uint8Array(64);
    this._headerEnds = new Uint32Array(64);
    this._inputs = new Uint32Array(64);
    // The input record being enriched, set by the SDK for each input.
    this._input = 0;
    this._record = null;
  }

  /**
   * Emits a record with `value` (a Uint8Array or other binary data, a
   * string as UTF-8, anything else as JSON). It keeps the input record's
   * key and headers unless `options` gives `key` (bytes or text; null for
   * none) or `headers` (`[name, value]` pairs or an object; [] for none).
   */
  emit(value, options = undefined) {
    const record = this._record;
    const key = options === undefined || options.key === undefined ? (record === null ? null : record.key) : options.key;
    const headers = options === undefined ? undefined : options.headers;
    // Convert first, so a key that cannot be emitted adds nothing.
    const keyBytes = key === null ? null : toBytes(key);

    // Where to cut back to should the value or a header fail half-written.
    const values = this._values.length;
    const data = this._headerData.length;
    const dataEnds = this._headerDataEnds.length;
    const count = this._headers;
    try {
      this._values.appendData(value);
      if (headers !== undefined) {
        const pairs = pairsOf(headers);
        for (let h = 0; h < pairs.length; h++) {
          const name = pairs[h][0];
          if (typeof name !== "string") throw new TypeError(`a header name must be a string, not ${typeof name}`);
          this._headerData.appendText(name);
          this._headerDataEnds.push(this._headerData.length);
          this._headerData.appendData(pairs[h][1]);
          this._headerDataEnds.push(this._headerData.length);
          this._headers += 1;
        }
      } else if (record !== null) {
        this._copyHeaders(record);
      }
    } catch (e) {
      this._values.truncate(values);
      this._headerData.truncate(data);
      this._headerDataEnds.truncate(dataEnds);
      this._headers = count;
      throw e;
    }
    if (keyBytes !== null) this._keys.append(keyBytes);
    const n = this._n;
    if (n === this._inputs.length) this._grow();
    this._valueEnds[n] = this._values.length;
    this._keyEnds[n] = this._keys.length;
    this._hasKey[n] = keyBytes === null ? 0 : 1;
    this._headerEnds[n] = this._headers;
    this._inputs[n] = this._input;
    this._n = n + 1;
  }

  /** Doubles the room of the per-record columns. */
  _grow() {
    const more = (old) => {
      const grown = new old.constructor(old.length * 2);
      grown.set(old);
      return grown;
    };
    this._valueEnds = more(this._valueEnds);
    this._keyEnds = more(this._keyEnds);
    this._hasKey = more(this._hasKey);
    this._headerEnds = more(this._headerEnds);
    this._inputs = more(this._inputs);
  }

  /** Copies the input's headers as they are in the batch, bytes and all. */
  _copyHeaders(record) {
    const v = record._v;
    const first = start(v.headerEnds, record.index);
    const last = v.headerEnds[record.index];
    if (first === last) return;
    const ends = v.headerDataEnds;
    const from = start(ends, 2 * first);
    const shift = this._headerData.length - from;
    this._headerData.append(v.headerData.subarray(from, ends[2 * last - 1]));
    for (let e = 2 * first; e < 2 * last; e++) this._headerDataEnds.push(ends[e] + shift);
    this._headers += last - first;
  }

  /** How much was emitted so far, for `_rewind`: the record count, from
   * which the columns give every other length. */
  _mark() {
    return this._n;
  }

  /** Drops what was emitted since `mark` (a failed input's output). */
  _rewind(mark) {
    const headers = mark === 0 ? 0 : this._headerEnds[mark - 1];
    this._n = mark;
    this._values.truncate(mark === 0 ? 0 : this._valueEnds[mark - 1]);
    this._keys.truncate(mark === 0 ? 0 : this._keyEnds[mark - 1]);
    this._headerDataEnds.truncate(2 * headers);
    this._headerData.truncate(headers === 0 ? 0 : this._headerDataEnds.data[2 * headers - 1]);
    this._headers = headers;
  }

  /** The input of each emitted record. */
  _inputsView() {
    return this._inputs.subarray(0, this._n);
  }

  /** The emitted records as the `columns` of the WIT. */
  _columns() {
    const n = this._n;
    return {
      values: this._values.view(),
      valueEnds: this._valueEnds.subarray(0, n),
      keys: this._keys.view(),
      keyEnds: this._keyEnds.subarray(0, n),
      hasKey: this._hasKey.subarray(0, n),
      headerEnds: this._headerEnds.subarray(0, n),
      headerData: this._headerData.view(),
      headerDataEnds: this._headerDataEnds.view(),
    };
  }
}
