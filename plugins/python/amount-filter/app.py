"""Filter plugin: keeps card transactions whose `amount` is above the
`min_amount` setting (the Python twin of plugins/rust/amount-filter)."""

import weir_plugin as weir


class AmountFilter(weir.Filter):
    def init(self, settings):
        self.min_amount = settings.require("min_amount", float)

    def keep(self, record):
        amount = record.json()["amount"]
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise ValueError(f"`amount` is not a number: {amount!r}")
        return amount > self.min_amount
