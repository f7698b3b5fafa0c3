// Test fixture (filter): logs a line in `init`, then throws where the
// setting `raise_in` says: `init`; `record` (each record whose value
// contains "raise" fails alone); `call` (the whole call fails: a
// weir.Fatal escapes the per-record handling). Keeps everything else.

import * as weir from "../sdk/weir.js";

const RAISE = new TextEncoder().encode("raise");

function explode(where) {
  throw new Error(`raised in ${where} as configured`);
}

/** Whether the bytes `haystack` contain the bytes `needle`. */
function contains(haystack, needle) {
  for (let i = haystack.indexOf(needle[0]); i >= 0 && i + needle.length <= haystack.length; i = haystack.indexOf(needle[0], i + 1)) {
    if (needle.every((b, j) => haystack[i + j] === b)) return true;
  }
  return false;
}

export const filterPlugin = weir.filter({
  init(settings) {
    console.log("test_raise: hello from init");
    this.raiseIn = settings.get("raise_in", "");
    if (this.raiseIn === "init") explode("init");
  },

  keep(record) {
    if (this.raiseIn === "call") throw new weir.Fatal("the whole call fails as configured");
    if (this.raiseIn === "record" && contains(record.value, RAISE)) explode("record");
    return true;
  },
});
