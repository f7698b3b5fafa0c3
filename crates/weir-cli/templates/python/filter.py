"""{{name}}: a filter that keeps card transactions whose `amount` is above
the `min_amount` setting (default 100)."""

import weir_plugin as weir


def amount(record):
    value = record.json()["amount"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`amount` is not a number: {value!r}")
    return value


class Plugin(weir.Filter):
    def init(self, settings):
        self.min_amount = settings.parse_or("min_amount", 100.0)

    def keep(self, record):
        return amount(record) > self.min_amount
