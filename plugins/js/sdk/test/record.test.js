// Records: views over a columnar batch.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Record, View } from "../record.js";
import { batchOf } from "../testing/batch.js";

const text = (bytes) => new TextDecoder().decode(bytes);

test("a record of a batch reads its own spans", () => {
  const view = new View(batchOf([
    { value: "first", key: "k1", headers: [["h", "1"]], timestampMs: 5 },
    { value: '{"a":1}', headers: [["h", "v"], ["h", "w"], ["x", ""]], timestampMs: 1700000000000, position: "42" },
    { value: "", key: "" },
  ]));
  assert.equal(view.length, 3);
  const r = new Record(view, 1);
  assert.equal(r.text(), '{"a":1}');
  assert.deepEqual(r.json(), { a: 1 });
  assert.equal(r.key, null);
  assert.deepEqual(r.headers.map(([n, v]) => [n, text(v)]), [["h", "v"], ["h", "w"], ["x", ""]]);
  assert.equal(text(r.header("h")), "v");
  assert.equal(r.header("nope"), null);
  assert.equal(r.timestampMs, 1700000000000);
  assert.equal(r.position, "42");
  assert.equal(r.origin, "orders");
  assert.equal(r.partition, "3");
  const first = new Record(view, 0);
  assert.equal(text(first.key), "k1");
  assert.equal(text(first.value), "first");
  assert.deepEqual(first.headers.map(([n, v]) => [n, text(v)]), [["h", "1"]]);
  const last = new Record(view, 2);
  assert.deepEqual(last.key, new Uint8Array(0));
  assert.equal(last.text(), "");
  assert.deepEqual(last.headers, []);
});

test("Record.of makes a record on its own", () => {
  const r = Record.of('{"a":1}', { key: "k", headers: [["h", "v"]], position: "7", timestampMs: 3 });
  assert.deepEqual(r.json(), { a: 1 });
  assert.equal(text(r.key), "k");
  assert.equal(text(r.header("h")), "v");
  assert.equal(r.position, "7");
  assert.equal(r.timestampMs, 3);
  assert.equal(Record.of("").key, null);
});

test("text and json are strict", () => {
  assert.throws(() => Record.of(new Uint8Array([0xff])).text(), TypeError);
  assert.throws(() => Record.of("NaN").json(), SyntaxError);
  // A byte-order mark stays, and JSON does not allow it.
  assert.throws(() => Record.of(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])).json(), SyntaxError);
});
