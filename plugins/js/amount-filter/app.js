// Filter plugin: keeps card transactions whose `amount` is above the
// `min_amount` setting (the JS twin of plugins/rust/amount-filter; it reads
// `amount` as the Rust one's serde_json does, so both keep the same records).

import * as weir from "../sdk/weir.js";
import * as serde from "../lib/serde.js";

const Transaction = serde.struct({ amount: "f64" });

export const filterPlugin = weir.filter({
  init(settings) {
    this.minAmount = settings.require("min_amount", Number);
  },

  keep(record) {
    let txn;
    try {
      txn = Transaction.read(record.text());
    } catch (e) {
      throw new Error(`not a JSON transaction with a numeric \`amount\`: ${e.message}`);
    }
    return txn.amount > this.minAmount;
  },
});
