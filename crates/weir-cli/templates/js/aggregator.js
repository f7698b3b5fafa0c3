// {{name}}: an aggregator that counts and sums card transactions per card
// (the record key) and window, emitting
// `{"card":…,"start":…,"count":…,"total":…}` when a window closes.

import * as weir from "./sdk/weir.js";

export const aggregatorPlugin = weir.aggregator({
  zero() {
    return [0, 0];
  },

  accumulate(window, [count, total], record) {
    const amount = record.json().amount;
    if (typeof amount !== "number") {
      throw new Error(`\`amount\` is not a number: ${JSON.stringify(amount)}`);
    }
    return [count + 1, total + amount];
  },

  emit(window, [count, total], out) {
    out.emit({ card: window.keyText(), start: window.start, count, total });
  },
});
