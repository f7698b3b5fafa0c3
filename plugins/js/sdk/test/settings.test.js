// Settings: reading, defaults, and the errors that name the setting.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parseNumber, SettingError, Settings } from "../settings.js";

test("parse, parseOr and require read each kind", () => {
  const s = new Settings([["a", " 1.5 "], ["b", "yes"], ["c", "x"], ["a", "2"], ["n", " -12 "]]);
  assert.equal(s.require("a", Number), 2);
  assert.equal(s.parseOr("b", false), true);
  assert.equal(s.parseOr("missing", 3), 3);
  assert.equal(s.parse("missing", Number), undefined);
  assert.equal(s.get("c"), "x");
  assert.equal(s.get("missing", "fallback"), "fallback");
  assert.equal(s.require("n", BigInt), -12n);
  assert.equal(s.parse("c", (raw) => raw.toUpperCase()), "X");
  assert.equal(s.size, 4);
  assert.ok(s.has("b") && !s.has("z"));
  assert.deepEqual([...s], [["a", "2"], ["b", "yes"], ["c", "x"], ["n", " -12 "]]);
});

test("errors name the setting and the value", () => {
  const s = new Settings([["c", "x"], ["f", "0x10"]]);
  assert.throws(() => s.require("c", Number), new SettingError("setting `c`: `x` is not a valid number"));
  assert.throws(() => s.require("f", Number), { message: "setting `f`: `0x10` is not a valid number" });
  assert.throws(() => s.require("c", Boolean), { message: "setting `c`: `x` is not a valid boolean" });
  assert.throws(() => s.require("q"), { name: "SettingError", message: "setting `q` is required" });
  const custom = function port(raw) {
    throw new Error(raw);
  };
  assert.throws(() => s.parse("c", custom), { message: "setting `c`: `x` is not a valid port" });
});

test("numbers follow Rust's f64 grammar", () => {
  for (const [text, value] of [
    ["1", 1], ["-1.", -1], [".5", 0.5], ["+2e3", 2000], ["1E-2", 0.01], ["inf", Infinity],
    ["-Infinity", -Infinity], ["NaN", NaN],
  ]) {
    assert.equal(parseNumber(text), value, text);
  }
  for (const text of ["", ".", "e5", "0x10", "1_000", "1e", "--1", " 1"]) {
    assert.equal(parseNumber(text), undefined, JSON.stringify(text));
  }
});
