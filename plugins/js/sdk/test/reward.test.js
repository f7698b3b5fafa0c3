// The reward and aggregator kinds, as weir calls them (with a fake host).
import assert from "node:assert/strict";
import { test } from "node:test";

import { batchOf, recordsOf } from "../testing/batch.js";

const { weir } = await import("../testing/with-host.js");

const track = { waypoints: [[0, 0], [1, 0.5]], trackWidth: 0.76, trackLength: 17.5 };

function step(over = {}) {
  return {
    allWheelsOnTrack: true,
    x: 0.25,
    y: 0.125,
    closestObjects: [0, 1],
    closestWaypoints: [0, 1],
    distanceFromCenter: 0.1,
    isCrashed: false,
    isLeftOfCenter: true,
    isOfftrack: false,
    isReversed: false,
    heading: 12.5,
    objectsDistance: new Float64Array([1.5]),
    objectsHeading: new Float64Array([3]),
    objectsLeftOfCenter: [false],
    objectsLocation: [[2, 1]],
    objectsSpeed: new Float64Array([0]),
    progress: 42.0,
    speed: 2.5,
    steeringAngle: -15,
    steps: 7,
    ...over,
  };
}

test("a reward function gets DeepRacer's params, one object per step", () => {
  const seen = [];
  const plugin = weir.deepracer((params) => {
    seen.push(params);
    params.waypoints.push([9, 9]);
    if (params.speed < 0) throw new Error("reversing");
    return params.track_width - params.distance_from_center;
  });
  assert.equal(plugin.init([]), undefined);
  const { rewards, errors } = plugin.process(track, [step(), step({ speed: -1 }), step()]);
  assert.ok(rewards instanceof Float64Array);
  assert.equal(rewards[0], 0.76 - 0.1);
  assert.equal(rewards[2], 0.76 - 0.1);
  assert.deepEqual(errors.map((e) => e.index), [1]);
  assert.match(errors[0].message, /^Error: reversing\n {4}at /);
  assert.ok(!/sdk\/reward\.js/.test(errors[0].message), errors[0].message);
  const p = seen[0];
  assert.deepEqual(Object.keys(p).sort(), [
    "all_wheels_on_track", "closest_objects", "closest_waypoints", "distance_from_center", "heading",
    "is_crashed", "is_left_of_center", "is_offtrack", "is_reversed", "objects_distance", "objects_heading",
    "objects_left_of_center", "objects_location", "objects_speed", "progress", "speed", "steering_angle",
    "steps", "track_length", "track_width", "waypoints", "x", "y",
  ]);
  assert.deepEqual(p.objects_distance, [1.5]);
  assert.deepEqual(p.objects_location, [[2, 1]]);
  assert.equal(p.track_length, 17.5);
  // Each step has its own lists.
  assert.deepEqual(seen[2].waypoints, [[0, 0], [1, 0.5], [9, 9]]);
  assert.equal(seen[0].waypoints.length, 3);
});

test("a reward that is not a number fails its step", () => {
  const plugin = weir.reward({ reward: () => "1.0" });
  const { errors } = plugin.process(track, [step()]);
  assert.match(errors[0].message, /^TypeError: reward must return a number, not string/);
});

const counts = weir.aggregator({
  zero: () => ({ n: 0, total: 0 }),
  accumulate(window, acc, record) {
    const { amount } = record.json();
    if (typeof amount !== "number") throw new Error("no amount");
    acc.n += 1;
    acc.total += amount;
    return acc;
  },
  emit(window, acc, out) {
    if (acc.n === 99) throw new Error("unlucky");
    out.emit({ key: window.keyText(), start: window.start, n: acc.n, total: acc.total });
  },
});

const windowBatch = batchOf([
  { value: '{"amount":5}', key: "a", timestampMs: 1000 },
  { value: '{"amount":7}', key: "a", timestampMs: 2000 },
  { value: "{}", key: "b", timestampMs: 1500 },
  { value: '{"amount":1}', key: "b", timestampMs: 1600 },
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

test("an aggregator folds each window's records into its accumulator", () => {
  assert.equal(counts.init([]), undefined);
  const groups = [
    { key: encoder.encode("a"), start: 0n, end: 60000n, accumulator: undefined, records: new Uint32Array([0, 1]) },
    { key: encoder.encode("b"), start: 0n, end: 60000n, accumulator: encoder.encode('{"n":2,"total":10}'), records: new Uint32Array([2, 3]) },
  ];
  const { accumulators, errors } = counts.accumulate(windowBatch, groups);
  assert.deepEqual(accumulators.map((a) => JSON.parse(decoder.decode(a))), [
    { n: 2, total: 12 },
    { n: 3, total: 11 },
  ]);
  assert.deepEqual(errors.map((e) => e.index), [2]);
  assert.match(errors[0].message, /^Error: no amount\n/);
});

test("a bad accumulator fails its window's records, not the call", () => {
  const groups = [{ key: new Uint8Array(0), start: 0n, end: 10n, accumulator: encoder.encode("not json"), records: new Uint32Array([0, 1]) }];
  const { accumulators, errors } = counts.accumulate(windowBatch, groups);
  assert.equal(decoder.decode(accumulators[0]), "not json");
  assert.deepEqual(errors.map((e) => e.index), [0, 1]);
  assert.match(errors[0].message, /^cannot load the window's accumulator: SyntaxError/);
});

test("closed windows become records keyed by the window; a failing one is skipped", () => {
  const windows = [
    { key: encoder.encode("a"), start: 0n, end: 60000n, accumulator: encoder.encode('{"n":2,"total":12}') },
    { key: encoder.encode("x"), start: 0n, end: 60000n, accumulator: encoder.encode('{"n":99,"total":0}') },
    { key: new Uint8Array(0), start: 60000n, end: 120000n, accumulator: encoder.encode('{"n":1,"total":3}') },
  ];
  const { records, windows: from } = counts.emit(windows);
  const out = recordsOf(records);
  assert.deepEqual([...from], [0, 2]);
  assert.deepEqual(JSON.parse(out[0].value), { key: "a", start: 0, n: 2, total: 12 });
  assert.equal(out[0].key, "a");
  assert.equal(out[1].key, null);
});

test("an aggregator without its methods is refused when the module loads", () => {
  assert.throws(() => weir.aggregator({ accumulate() {} }), /must be an object with a emit method/);
});
