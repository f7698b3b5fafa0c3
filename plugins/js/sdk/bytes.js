// Bytes in and out of the plugin: what a value given to the SDK becomes,
// and growable typed buffers for the columns a plugin returns.

const encoder = new TextEncoder();

/** `data` as bytes: a Uint8Array as is, other binary data viewed as bytes,
 * a string as UTF-8, anything else as compact JSON. */
export function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return encoder.encode(typeof data === "string" ? data : toJson(data));
}

/** `data` as compact JSON text; a TypeError for what JSON cannot hold. */
export function toJson(data) {
  const text = JSON.stringify(data);
  if (text === undefined) throw new TypeError(`${typeof data} is not a JSON value`);
  return text;
}

/**
 * A typed array that grows as items are appended. The bindings copy a typed
 * array into the component's memory in one go, where a plain Array is
 * checked and written item by item, so each output column is built as one.
 */
export class Growable {
  constructor(Type, capacity = 64) {
    this.Type = Type;
    this.data = new Type(Math.max(capacity, 16));
    this.length = 0;
  }

  reserve(extra) {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < need) capacity *= 2;
    const data = new this.Type(capacity);
    data.set(this.data.subarray(0, this.length));
    this.data = data;
  }

  push(item) {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = item;
  }

  /** Appends the items of an array or typed array. */
  append(items) {
    this.reserve(items.length);
    this.data.set(items, this.length);
    this.length += items.length;
  }

  /** Appends `data` as bytes (see `toBytes`); only for a Uint8Array buffer. */
  appendData(data) {
    if (typeof data === "string") this.appendText(data);
    else if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) this.append(toBytes(data));
    else this.appendText(toJson(data));
  }

  /** Appends `text` as UTF-8, encoded in place. */
  appendText(text) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    this.length += encoder.encodeInto(text, this.data.subarray(this.length)).written;
  }

  truncate(length) {
    this.length = length;
  }

  /** The items so far, without copying. */
  view() {
    return this.data.subarray(0, this.length);
  }
}
