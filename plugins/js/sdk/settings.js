// A plugin's settings, as the pipeline config gives them.

/** A setting is missing or cannot be read as the kind asked for. */
export class SettingError extends Error {
  constructor(message) {
    super(message);
    this.name = "SettingError";
  }
}

// Rust's `f64::from_str` grammar, so a JS plugin accepts exactly the
// numbers its Rust twin accepts (Number() alone would take "", "0x10").
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** `text` read as a number the way Rust reads an f64 (so also `inf`,
 * `infinity` and `nan`, in any case); undefined when it is not one. */
export function parseNumber(text) {
  if (FLOAT.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (special === null) return undefined;
  if (special[2].toLowerCase() === "nan") return NaN;
  return special[1] === "-" ? -Infinity : Infinity;
}

/** How each built-in kind reads a raw value (trimmed, as Rust and Python do
 * for numbers and booleans); a thrown error means "not a valid <name>". */
const KINDS = new Map([
  [Number, { name: "number", read: (raw) => {
    const value = parseNumber(raw.trim());
    if (value === undefined) throw new TypeError(raw);
    return value;
  } }],
  [BigInt, { name: "integer", read: (raw) => {
    const text = raw.trim();
    if (!INTEGER.test(text)) throw new TypeError(text);
    return BigInt(text);
  } }],
  [Boolean, { name: "boolean", read: (raw) => {
    const low = raw.trim().toLowerCase();
    if (TRUE.has(low)) return true;
    if (FALSE.has(low)) return false;
    throw new TypeError(raw);
  } }],
  [String, { name: "string", read: (raw) => raw }],
]);

function kindOf(kind) {
  return KINDS.get(kind) ?? { name: kind.name || "value", read: (raw) => kind(raw) };
}

const KIND_OF_DEFAULT = { number: Number, bigint: BigInt, boolean: Boolean, string: String };

/**
 * The `[key, value]` pairs of the stage's `settings`; a key given twice
 * keeps its last value. Kinds: `Number` (as Rust reads an f64, so also
 * `inf` and `nan`), `BigInt`, `Boolean` (`true`/`1`/`yes`/`on` and
 * `false`/`0`/`no`/`off`), `String`, or any function of the raw text.
 */
export class Settings {
  constructor(pairs = []) {
    this._pairs = new Map(pairs);
  }

  /** The raw value of `key`, or `fallback` (undefined unless given). */
  get(key, fallback = undefined) {
    return this._pairs.has(key) ? this._pairs.get(key) : fallback;
  }

  /** The value of `key` read as `kind`, or undefined when it is not set;
   * a SettingError when it cannot be read. */
  parse(key, kind = String) {
    if (!this._pairs.has(key)) return undefined;
    const raw = this._pairs.get(key);
    const { name, read } = kindOf(kind);
    try {
      return read(raw);
    } catch {
      throw new SettingError(`setting \`${key}\`: \`${raw}\` is not a valid ${name}`);
    }
  }

  /** The value of `key` read as the kind of `fallback` (a number, bigint,
   * boolean or string), or `fallback` when it is not set. */
  parseOr(key, fallback) {
    const kind = KIND_OF_DEFAULT[typeof fallback];
    if (kind === undefined) throw new TypeError(`parseOr: no kind for a default of type ${typeof fallback}`);
    const value = this.parse(key, kind);
    return value === undefined ? fallback : value;
  }

  /** The value of `key` read as `kind`; a SettingError when it is not set. */
  require(key, kind = String) {
    const value = this.parse(key, kind);
    if (value === undefined) throw new SettingError(`setting \`${key}\` is required`);
    return value;
  }

  /** Whether `key` is set. */
  has(key) {
    return this._pairs.has(key);
  }

  /** How many distinct keys are set. */
  get size() {
    return this._pairs.size;
  }

  /** The `[key, value]` pairs. */
  [Symbol.iterator]() {
    return this._pairs.entries();
  }
}
