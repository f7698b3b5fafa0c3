// The kinds' glue, as weir calls it: init, per-record outcomes and errors,
// whole-call failures, console and host services (with a fake host).
import assert from "node:assert/strict";
import { test } from "node:test";

import { batchOf, recordsOf } from "../testing/batch.js";

const { weir, host } = await import("../testing/with-host.js");

const batch = batchOf([
  { value: '{"amount":5}', key: "a" },
  { value: '{"amount":50}', key: "b", headers: [["h", "v"]] },
  { value: "not json" },
  { value: '{"amount":500}' },
]);

const amounts = weir.filter({
  init(settings) {
    this.min = settings.require("min", Number);
  },
  keep(record) {
    return record.json().amount > this.min;
  },
});

test("a filter keeps, drops and fails records one by one", () => {
  assert.equal(amounts.init([["min", "10"]]), undefined);
  const { keep, errors } = amounts.process(batch);
  assert.deepEqual([...keep], [1, 3]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].index, 2);
  const lines = errors[0].message.split("\n");
  assert.match(lines[0], /^SyntaxError: /);
  // The plugin's frame is there; the SDK's glue is not.
  assert.ok(lines.some((l) => /^ {4}at (Object\.)?keep \(.*kinds\.test\.js:\d+:\d+\)$/.test(l)), errors[0].message);
  assert.ok(!lines.some((l) => /sdk\/kinds\.js/.test(l)), errors[0].message);
});

test("an error in init is init's error, with the stack", () => {
  const result = amounts.init([]);
  assert.equal(result.tag, "err");
  assert.match(result.val, /^SettingError: setting `min` is required\n {4}at (Settings\.)?require \(.*settings\.js:\d+:\d+\)\n {4}at (Object\.)?init /);
});

test("an async init is waited for", async () => {
  const plugin = weir.filter({
    async init() {
      throw new Error("later");
    },
    keep: () => true,
  });
  const result = await plugin.init([]);
  assert.equal(result.tag, "err");
  assert.match(result.val, /^Error: later\n/);
});

test("a Fatal fails the whole call and is logged", () => {
  const plugin = weir.filter({
    keep(record) {
      if (record.index === 1) throw new weir.Fatal("all of it");
      return true;
    },
  });
  plugin.init([]);
  host.logs.length = 0;
  assert.throws(() => plugin.process(batch), { name: "Fatal", message: "all of it" });
  assert.equal(host.logs.length, 1);
  assert.equal(host.logs[0][0], "error");
  assert.match(host.logs[0][1], /^the call failed: Fatal: all of it\n {4}at (Object\.)?keep /);
});

test("a promise from keep is an error, not a keep", () => {
  const plugin = weir.filter({ keep: async () => false });
  const { keep, errors } = plugin.process(batch);
  assert.deepEqual([...keep], []);
  assert.equal(errors.length, 4);
  assert.match(errors[0].message, /^TypeError: keep returned a promise/);
});

test("an enricher emits per input and drops a failed input's output", () => {
  const plugin = weir.enricher({
    enrich(record, out) {
      const { amount } = record.json();
      out.emit({ amount, double: amount * 2 });
      out.emit(`event ${amount}`, { key: null, headers: [["kind", "event"]] });
    },
  });
  plugin.init([]);
  const { records, inputs, errors } = plugin.process(batch);
  assert.deepEqual(recordsOf(records), [
    { value: '{"amount":5,"double":10}', key: "a", headers: [] },
    { value: "event 5", key: null, headers: [["kind", "event"]] },
    { value: '{"amount":50,"double":100}', key: "b", headers: [["h", "v"]] },
    { value: "event 50", key: null, headers: [["kind", "event"]] },
    { value: '{"amount":500,"double":1000}', key: null, headers: [] },
    { value: "event 500", key: null, headers: [["kind", "event"]] },
  ]);
  assert.deepEqual([...inputs], [0, 0, 1, 1, 3, 3]);
  assert.deepEqual(errors.map((e) => e.index), [2]);
});

test("a scorer gives scores and labels; a bad score fails its record", () => {
  const plugin = weir.scorer({
    score(record) {
      const { amount } = record.json();
      if (amount === 500) return "high";
      return amount > 10 ? { value: 0.5, labels: ["big", "odd"] } : 0.25;
    },
  });
  plugin.init([]);
  const { scores, labels, errors } = plugin.process(batch);
  assert.deepEqual([...scores], [0.25, 0.5, 0, 0]);
  assert.deepEqual(labels, [{ index: 1, text: "big" }, { index: 1, text: "odd" }]);
  assert.deepEqual(errors.map((e) => e.index), [2, 3]);
  assert.match(errors[1].message, /^TypeError: score must return a number or \{ value, labels \}, not string/);
});

test("console and host services reach the host", () => {
  host.logs.length = 0;
  console.log("hello", 1, { a: [1] }, new Uint8Array([1, 2]));
  console.warn("careful");
  console.error(new Error("bad"));
  assert.deepEqual(host.logs.slice(0, 2), [
    ["info", 'hello 1 {"a":[1]} Uint8Array(2) [1, 2]'],
    ["warn", "careful"],
  ]);
  assert.equal(host.logs[2][0], "error");
  assert.match(host.logs[2][1], /^Error: bad\n {4}at /);
  weir.log.debug("d");
  assert.deepEqual(host.logs[3], ["debug", "d"]);

  weir.metrics.counterAdd("seen");
  weir.metrics.gaugeSet("lag", 3);
  weir.metrics.histogramObserve("size", 1.5);
  assert.deepEqual(host.metrics, [["counter", "seen", 1n], ["gauge", "lag", 3], ["histogram", "size", 1.5]]);

  assert.equal(weir.state.get("k"), null);
  weir.state.set("k", { n: 1 });
  assert.equal(new TextDecoder().decode(weir.state.get("k")), '{"n":1}');
  weir.state.delete("k");
  assert.equal(weir.state.get("k"), null);

  weir.state.setMany([["a", "1"], ["empty", new Uint8Array()], ["c", { n: 3 }]]);
  const text = (v) => (v === null ? null : new TextDecoder().decode(v));
  assert.deepEqual(weir.state.getMany(["c", "missing", "a", "empty"]).map(text), ['{"n":3}', null, "1", ""]);
  assert.deepEqual(weir.state.getMany([]), []);
});

test("a plugin without its method is refused when the module loads", () => {
  assert.throws(() => weir.filter({ init() {} }), /weir\.filter\(plugin\): the plugin must be an object with a keep method/);
});
