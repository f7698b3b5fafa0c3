// The enricher's emitter: output columns, defaults from the input record,
// and rewinding a failed input.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Emitter } from "../emitter.js";
import { Record, View } from "../record.js";
import { batchOf, recordsOf } from "../testing/batch.js";

test("a failed input leaves nothing", () => {
  const out = new Emitter();
  out.emit({ a: 1 });
  const mark = out._mark();
  out._input = 1;
  out.emit("text", { key: "k", headers: [["h", "v"]] });
  out._rewind(mark);
  out._input = 2;
  out.emit(new TextEncoder().encode("raw"), { key: new Uint8Array([107, 50]), headers: { n: "1" } });
  const c = out._columns();
  assert.equal(new TextDecoder().decode(c.values), '{"a":1}raw');
  assert.deepEqual([...c.valueEnds], [7, 10]);
  assert.equal(new TextDecoder().decode(c.keys), "k2");
  assert.deepEqual([...c.hasKey], [0, 1]);
  assert.deepEqual([...c.headerEnds], [0, 1]);
  assert.equal(new TextDecoder().decode(c.headerData), "n1");
  assert.deepEqual([...c.headerDataEnds], [1, 2]);
  assert.deepEqual([...out._inputsView()], [0, 2]);
});

test("emit keeps the input's key and headers unless told otherwise", () => {
  const view = new View(batchOf([
    { value: "a", key: "k0", headers: [["x", "0"]] },
    { value: "b", key: "k1", headers: [["h1", "v1"], ["h2", "v2"]] },
  ]));
  const out = new Emitter();
  for (const i of [0, 1]) {
    out._input = i;
    out._record = new Record(view, i);
    out.emit(`same ${i}`);
    out.emit(`no key ${i}`, { key: null, headers: [] });
    out.emit(`new ${i}`, { headers: [["e", "1"]] });
  }
  assert.deepEqual(recordsOf(out._columns()), [
    { value: "same 0", key: "k0", headers: [["x", "0"]] },
    { value: "no key 0", key: null, headers: [] },
    { value: "new 0", key: "k0", headers: [["e", "1"]] },
    { value: "same 1", key: "k1", headers: [["h1", "v1"], ["h2", "v2"]] },
    { value: "no key 1", key: null, headers: [] },
    { value: "new 1", key: "k1", headers: [["e", "1"]] },
  ]);
  assert.deepEqual([...out._inputsView()], [0, 0, 0, 1, 1, 1]);
});

test("a value that cannot be emitted adds nothing", () => {
  const out = new Emitter();
  assert.throws(() => out.emit(undefined), TypeError);
  assert.throws(() => out.emit("v", { headers: [[1, "x"]] }), TypeError);
  out.emit("ok");
  assert.deepEqual(recordsOf(out._columns()), [{ value: "ok", key: null, headers: [] }]);
});

test("buffers grow past their first capacity", () => {
  const out = new Emitter();
  const big = "x".repeat(10000);
  for (let i = 0; i < 100; i++) out.emit(big, { key: `k${i}`, headers: [["i", String(i)]] });
  const records = recordsOf(out._columns());
  assert.equal(records.length, 100);
  assert.deepEqual(records[99], { value: big, key: "k99", headers: [["i", "99"]] });
});
