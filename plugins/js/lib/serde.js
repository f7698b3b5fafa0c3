// JSON as the Rust plugins read and write it — serde_json 1.x with its
// default features (no `float_roundtrip`) — for the JS twins of Rust
// plugins, so that both keep, emit and fail exactly the same records.
//
// JSON.parse and JSON.stringify alone differ from serde_json in ways that
// show in real data: serde_json's default number parser rounds twice when
// a number has more than ~15 significant digits (so 17-digit floats may
// come out one unit in the last place apart), it rejects numbers beyond
// f64 (JSON.parse gives Infinity) and reads integers past 2^53 exactly; a
// Rust struct rejects a duplicate field (JSON.parse keeps the last) and
// can be read from an array; serde_json writes 1.0 as `1.0` and 1e16 as
// `1e+16` (JSON.stringify: `1`, `10000000000000000`).

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
// serde_json's table of powers of ten; each literal rounds the same in JS.
const POW10 = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function outOfRange() {
  return new Error("number out of range");
}

function isDigit(text, i) {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** serde_json's `f64_from_parts`: the significand times ten to the
 * exponent, in f64 steps. */
function fromParts(positive, significand, exponent) {
  let f = Number(significand); // `significand as f64`, rounding to even
  for (;;) {
    const e = Math.abs(exponent);
    if (e < POW10.length) {
      if (exponent >= 0) {
        f *= POW10[e];
        if (f === Infinity) throw outOfRange();
      } else {
        f /= POW10[e];
      }
      break;
    }
    if (f === 0) break;
    if (exponent >= 0) throw outOfRange();
    f /= 1e308;
    exponent += 308;
  }
  return positive ? f : -f;
}

/**
 * A JSON number token as serde_json's parser reads it: `{ kind: "u64" |
 * "i64", value: bigint }` for an integer that fits, else `{ kind: "f64",
 * value: number }`; an error for a float beyond f64.
 */
export function readNumber(token) {
  const positive = token[0] !== "-";
  let i = positive ? 0 : 1;
  let significand = 0n;
  let exponent = 0;
  let overflowed = false;
  let float = false;
  // Past u64::MAX every further integer digit only raises the exponent.
  for (; isDigit(token, i); i++) {
    if (overflowed) {
      exponent++;
      continue;
    }
    const next = significand * 10n + BigInt(token.charCodeAt(i) - 48);
    if (next > U64_MAX) {
      overflowed = true;
      exponent++;
    } else {
      significand = next;
    }
  }
  if (token[i] === ".") {
    float = true;
    // Fraction digits that would overflow the significand are dropped.
    for (i++; isDigit(token, i); i++) {
      const next = significand * 10n + BigInt(token.charCodeAt(i) - 48);
      if (next > U64_MAX) {
        while (isDigit(token, i)) i++;
        break;
      }
      significand = next;
      exponent--;
    }
  }
  if (token[i] === "e" || token[i] === "E") {
    float = true;
    i++;
    const positiveExp = token[i] !== "-";
    if (token[i] === "+" || token[i] === "-") i++;
    let exp = 0;
    for (; isDigit(token, i); i++) {
      const d = token.charCodeAt(i) - 48;
      if (exp > 214748364 || (exp === 214748364 && d > 7)) {
        // An exponent past i32: infinite (an error) or zero.
        if (significand !== 0n && positiveExp) throw outOfRange();
        return { kind: "f64", value: positive ? 0 : -0 };
      }
      exp = exp * 10 + d;
    }
    exponent = Math.min(I32_MAX, Math.max(I32_MIN, positiveExp ? exponent + exp : exponent - exp));
  }
  if (!float && !overflowed) {
    if (positive) return { kind: "u64", value: significand };
    // -0 and integers below i64::MIN are floats to serde_json.
    if (significand === 0n || significand > 1n << 63n) return { kind: "f64", value: -Number(significand) };
    return { kind: "i64", value: -significand };
  }
  return { kind: "f64", value: fromParts(positive, significand, exponent) };
}

/** A number token read into a Rust `f64` field. */
export function readF64(token) {
  // With at most 19 digits the significand fits a u64 and serde_json reads
  // it whole: Number() of the digits is its `as f64`, then one step by a
  // power of ten. Done with a few native string calls, which cost far less
  // than digit-by-digit work in StarlingMonkey's interpreter.
  let e = token.indexOf("e");
  if (e < 0) e = token.indexOf("E");
  const dot = token.indexOf(".");
  const end = e < 0 ? token.length : e;
  const digits = end - (token.charCodeAt(0) === 45 ? 1 : 0) - (dot < 0 ? 0 : 1);
  if (digits <= 19) {
    if (e < 0) {
      // Up to 15 digits both roundings agree; an integer rounds once.
      if (dot < 0 || digits <= 15) return Number(token);
      return Number(token.replace(".", "")) / POW10[end - dot - 1];
    }
    const exp = token.slice(e + 1);
    if (exp.length <= 9) {
      const significand = Math.abs(Number(token.slice(0, e).replace(".", "")));
      const exponent = Number(exp) - (dot < 0 ? 0 : e - dot - 1);
      return fromParts(token.charCodeAt(0) !== 45, significand, exponent);
    }
  }
  const { kind, value } = readNumber(token);
  return kind === "f64" ? value : Number(value);
}

/** A number token read into a Rust `i64` field, as a bigint. */
export function readI64(token) {
  // Up to 18 characters an integer fits an i64 (but -0 is a float).
  if (token.length <= 18 && token !== "-0" && token.indexOf(".") < 0 && token.indexOf("e") < 0 && token.indexOf("E") < 0) {
    return BigInt(token);
  }
  const { kind, value } = readNumber(token);
  if (kind === "i64") return value;
  if (kind === "f64") throw new Error(`invalid type: floating point \`${writeF64(value)}\`, expected i64`);
  if (value > I64_MAX) throw new Error(`invalid value: integer \`${value}\`, expected i64`);
  return value;
}

/** `x` as serde_json writes an f64: the shortest digits that read back
 * as `x` (zmij's, the same as JS's), plain from 1e-5 up to 1e16, else
 * `1.5e+20` or `1e-7`; `null` for NaN and the infinities. */
export function writeF64(x) {
  const abs = Math.abs(x);
  // zmij writes these plain, as JS does, but always with a fraction.
  if (abs >= 1e-5 && abs < 1e16) {
    const text = String(x);
    return text.includes(".") ? text : `${text}.0`;
  }
  if (!Number.isFinite(x)) return "null";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // JS's own shortest round-trip digits, the same digits zmij picks.
  const [coefficient, e = "0"] = String(Math.abs(x)).split("e");
  const [whole, fraction = ""] = coefficient.split(".");
  let digits = whole + fraction;
  let point = whole.length + Number(e);
  const zeros = digits.length - digits.replace(/^0+/, "").length;
  digits = digits.slice(zeros).replace(/0+$/, "");
  point -= zeros;
  // zmij's layout, by the exponent of the first digit (x = d.ddd × 10^exp).
  const length = digits.length;
  const exp = point - 1;
  if (exp >= -5 && exp <= 15) {
    if (length <= point) return `${sign}${digits}${"0".repeat(point - length)}.0`;
    if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
    return `${sign}0.${"0".repeat(-point)}${digits}`;
  }
  const mantissa = length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${Math.abs(exp)}`;
}

/** What a JSON value is, in serde's words. */
function unexpected(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return `boolean \`${value}\``;
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  return Array.isArray(value) ? "sequence" : "map";
}

function skipSpace(text, i) {
  while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  return i;
}

function stringEnd(text, i) {
  for (let j = i + 1; ; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j + 1;
  }
}

function valueEnd(text, i) {
  if (text[i] === '"') return stringEnd(text, i);
  if (text[i] === "{" || text[i] === "[") {
    let depth = 0;
    for (let j = i; ; j++) {
      const c = text[j];
      if (c === '"') j = stringEnd(text, j) - 1;
      else if (c === "{" || c === "[") depth++;
      else if ((c === "}" || c === "]") && --depth === 0) return j + 1;
    }
  }
  let j = i;
  while (j < text.length && !",}] \t\n\r".includes(text[j])) j++;
  return j;
}

/** The members of the top-level object (or elements of the top-level
 * array) of valid JSON `text`, as `[key or null, start, end]`. */
function members(text) {
  const out = [];
  let i = skipSpace(text, 0);
  const object = text[i] === "{";
  i = skipSpace(text, i + 1);
  while (text[i] !== "}" && text[i] !== "]") {
    let key = null;
    if (object) {
      const end = stringEnd(text, i);
      key = JSON.parse(text.slice(i, end));
      i = skipSpace(text, skipSpace(text, end) + 1);
    }
    const end = valueEnd(text, i);
    out.push([key, i, end]);
    i = skipSpace(text, end);
    if (text[i] === ",") i = skipSpace(text, i + 1);
  }
  return out;
}

const isSpace = (c) => c === 32 || c === 9 || c === 10 || c === 13;

/** The number token starting at `start` of an object member's value. */
function numberAt(text, start) {
  let end = text.indexOf(",", start);
  const brace = text.indexOf("}", start);
  if (end < 0 || (brace >= 0 && brace < end)) end = brace;
  const token = text.slice(start, end);
  return isSpace(token.charCodeAt(token.length - 1)) ? token.trim() : token;
}

/**
 * A reader of a Rust struct with the `fields` given as `{ name: type }`
 * (types `"f64"`, `"i64"` — read as a bigint — and `"str"`), in the order
 * the struct declares them. `read(text)` returns the fields, or throws
 * where `serde_json::from_slice` fails (the messages without positions).
 */
export function struct(fields) {
  const names = Object.keys(fields);
  const types = names.map((name) => fields[name]);
  const quoted = names.map((name) => JSON.stringify(name));

  // Where each field's value starts (-1: absent), found by a plain search,
  // when no escape and no repeated name can fool one (then `"name":` is a
  // key, and a field's only one is the top-level member); else null. Kept
  // to a few native calls: each JS operation is slow in an interpreter.
  function quickStarts(text) {
    if (text.includes("\\")) return null;
    const starts = new Array(names.length);
    for (let f = 0; f < names.length; f++) {
      let at = text.indexOf(quoted[f]);
      if (at >= 0) {
        if (text.indexOf(quoted[f], at + 1) >= 0) return null;
        at += quoted[f].length;
        let c = text.charCodeAt(at);
        while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++at);
        // The name as a string value rather than a key: leave it to the scan.
        if (c !== 58) return null;
        c = text.charCodeAt(++at);
        while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++at);
      }
      starts[f] = at;
    }
    return starts;
  }

  // The fields' value texts, by scanning the top level; every key checked.
  function memberTokens(text) {
    const tokens = new Map();
    for (const [key, start, end] of members(text)) {
      if (LONE_SURROGATE.test(key)) throw new Error("lone leading surrogate in hex escape");
      if (!Object.hasOwn(fields, key)) continue;
      if (tokens.has(key)) throw new Error(`duplicate field \`${key}\``);
      tokens.set(key, text.slice(start, end));
    }
    return tokens;
  }

  // `token`: the value's text, for numbers; `checked`: its strings are
  // known to be well formed (there are no escapes at all).
  function field(type, value, token, checked) {
    if (type === "str") {
      if (typeof value !== "string") throw new Error(`invalid type: ${unexpected(value)}, expected a string`);
      if (!checked && LONE_SURROGATE.test(value)) throw new Error("lone leading surrogate in hex escape");
      return value;
    }
    if (typeof value !== "number") throw new Error(`invalid type: ${unexpected(value)}, expected ${type}`);
    return type === "i64" ? readI64(token) : readF64(token);
  }

  function read(text) {
    const doc = JSON.parse(text);
    const out = {};
    if (Array.isArray(doc)) {
      if (doc.length < names.length) {
        throw new Error(`invalid length ${doc.length}, expected struct with ${names.length} elements`);
      }
      if (doc.length > names.length) throw new Error("trailing characters");
      const spans = members(text);
      for (let f = 0; f < names.length; f++) {
        out[names[f]] = field(types[f], doc[f], text.slice(spans[f][1], spans[f][2]), false);
      }
      return out;
    }
    if (doc === null || typeof doc !== "object") throw new Error(`invalid type: ${unexpected(doc)}, expected struct`);
    const starts = quickStarts(text);
    const tokens = starts === null ? memberTokens(text) : null;
    for (let f = 0; f < names.length; f++) {
      const value = doc[names[f]];
      // JSON gives no undefined and no functions: those are inherited or absent.
      if (value === undefined || typeof value === "function" || (starts !== null && starts[f] < 0)) {
        throw new Error(`missing field \`${names[f]}\``);
      }
      const token = typeof value !== "number" ? undefined : starts === null ? tokens.get(names[f]) : numberAt(text, starts[f]);
      out[names[f]] = field(types[f], value, token, starts !== null);
    }
    return out;
  }

  return { read };
}
