// Error descriptions: the error's line, then its frames without the SDK's.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describe, parseStack } from "../errors.js";

test("SpiderMonkey frames are read", () => {
  const stack = "keep@amount-filter/app.js:18:13\n@sdk/kinds.js:80:31\nexport_x$process@/tmp/a/sources/initializer.js:1:2\n";
  assert.deepEqual(parseStack(stack), [
    { name: "keep", location: "amount-filter/app.js:18:13" },
    { name: "", location: "sdk/kinds.js:80:31" },
    { name: "export_x$process", location: "/tmp/a/sources/initializer.js:1:2" },
  ]);
  const error = new Error("boom");
  error.stack = stack;
  assert.equal(describe(error, "sdk/kinds.js"), "Error: boom\n    at keep (amount-filter/app.js:18:13)");
});

test("the frames of an Error subclass's constructors are left out", () => {
  class Oops extends Error {}
  const error = new Oops("no");
  error.stack = "Oops@sdk/kinds.js:20:5\nkeep@app.js:3:11\nprocess@sdk/kinds.js:80:31\n";
  assert.equal(describe(error, "sdk/kinds.js"), "Error: no\n    at keep (app.js:3:11)");
});

test("message first, then the frames", () => {
  function fail() {
    throw new RangeError("amount");
  }
  let text;
  try {
    fail();
  } catch (e) {
    text = describe(e);
  }
  assert.match(text, /^RangeError: amount\n    at fail \(.*errors\.test\.js:\d+:\d+\)\n/);
});

test("frames from the stop file down are left out, causes follow", () => {
  const error = new TypeError("outer", { cause: new Error("inner") });
  error.stack = "a@x.js:1:1\nb@glue.js:2:2\nc@y.js:3:3";
  error.cause.stack = "d@z.js:4:4";
  assert.equal(
    describe(error, "glue.js"),
    "TypeError: outer\n    at a (x.js:1:1)\nCaused by: Error: inner\n    at d (z.js:4:4)",
  );
});

test("thrown non-errors are shown", () => {
  assert.equal(describe("boom"), 'uncaught string: "boom"');
  assert.equal(describe(42), "uncaught number: 42");
  assert.equal(describe(undefined), "uncaught undefined: undefined");
});
