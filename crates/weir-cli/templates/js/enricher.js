// {{name}}: an enricher that adds `"large": true|false` (amount at least
// the `large` setting, default 500) to each card transaction.

import * as weir from "./sdk/weir.js";

export const enricherPlugin = weir.enricher({
  init(settings) {
    this.large = settings.parseOr("large", 500);
  },

  enrich(record, out) {
    const txn = record.json();
    if (typeof txn.amount !== "number") {
      throw new Error(`\`amount\` is not a number: ${JSON.stringify(txn.amount)}`);
    }
    txn.large = txn.amount >= this.large;
    out.emit(txn);
  },
});
