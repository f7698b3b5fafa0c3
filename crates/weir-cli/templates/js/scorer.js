// {{name}}: a scorer that scores card transactions by amount: `amount /
// 1000`, at most 1, with the label `large` from 500 on.

import * as weir from "./sdk/weir.js";

export const scorerPlugin = weir.scorer({
  score(record) {
    const amount = record.json().amount;
    if (typeof amount !== "number") {
      throw new Error(`\`amount\` is not a number: ${JSON.stringify(amount)}`);
    }
    const value = Math.min(amount / 1000, 1);
    return amount >= 500 ? { value, labels: ["large"] } : value;
  },
});
