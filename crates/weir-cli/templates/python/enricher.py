"""{{name}}: an enricher that adds `"large": true|false` (amount at least
the `large` setting, default 500) to each card transaction."""

import weir_plugin as weir


class Plugin(weir.Enricher):
    def init(self, settings):
        self.large = settings.parse_or("large", 500.0)

    def enrich(self, record, out):
        txn = record.json()
        value = txn["amount"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"`amount` is not a number: {value!r}")
        txn["large"] = value >= self.large
        out.emit(txn)
