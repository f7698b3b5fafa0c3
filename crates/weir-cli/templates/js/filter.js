// {{name}}: a filter that keeps card transactions whose `amount` is above
// the `min_amount` setting (default 100).

import * as weir from "./sdk/weir.js";

function amount(record) {
  const value = record.json().amount;
  if (typeof value !== "number") {
    throw new Error(`\`amount\` is not a number: ${JSON.stringify(value)}`);
  }
  return value;
}

export const filterPlugin = weir.filter({
  init(settings) {
    this.minAmount = settings.parseOr("min_amount", 100);
  },

  keep(record) {
    return amount(record) > this.minAmount;
  },
});
