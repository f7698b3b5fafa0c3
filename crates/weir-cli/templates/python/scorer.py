"""{{name}}: a scorer that scores card transactions by amount: `amount /
1000`, at most 1, with the label `large` from 500 on."""

import weir_plugin as weir


class Plugin(weir.Scorer):
    def score(self, record):
        value = record.json()["amount"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"`amount` is not a number: {value!r}")
        score = weir.Score(min(value / 1000.0, 1.0))
        return score.with_label("large") if value >= 500 else score
