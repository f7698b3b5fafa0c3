"""{{name}}: an aggregator that counts and sums card transactions per card
(the record key) and window, emitting
`{"card":…,"start":…,"count":…,"total":…}` when a window closes."""

import weir_plugin as weir


class Plugin(weir.Aggregator):
    def zero(self, window):
        return [0, 0.0]

    def accumulate(self, window, acc, record):
        value = record.json()["amount"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"`amount` is not a number: {value!r}")
        count, total = acc
        return [count + 1, total + value]

    def emit(self, window, acc, out):
        count, total = acc
        out.emit({"card": window.key_text(), "start": window.start, "count": count, "total": total})
