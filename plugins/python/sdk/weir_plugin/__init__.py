"""Write weir plugins in Python.

Subclass one of the kinds and the module is a plugin::

    import weir_plugin as weir

    class BigSpenders(weir.Filter):
        def init(self, settings):
            self.min_amount = settings.require("min_amount", float)

        def keep(self, record):
            return record.json()["amount"] > self.min_amount

Build it with componentize-py against weir's WIT (``plugins/python/build.sh``
shows how). The kinds and their methods are those of the Rust SDK:

- :class:`Filter` — ``keep(record) -> bool``
- :class:`Enricher` — ``enrich(record, out)``, emitting with ``out.emit(...)``
- :class:`Scorer` — ``score(record) -> float | Score``
- :class:`Reward` — ``reward(params) -> float``, with DeepRacer's ``params``
  dict; :func:`deepracer` runs an AWS DeepRacer ``reward_function`` unchanged
- :class:`Aggregator` — ``accumulate(window, acc, record) -> acc`` and
  ``emit(window, acc, out)``, over windows the host keeps

An exception raised for one record fails that record alone: it goes to the
pipeline's failure destination with the exception and its traceback. An
exception in ``init`` rejects the plugin with its traceback. ``print``
writes to the plugin's log (the stage needs ``grants = { wasi = true }``,
which every Python plugin does).
"""

from ._record import Record
from ._settings import SettingError, Settings
from ._kinds import Emitter, Enricher, Filter, Score, Scorer
from ._reward import Reward, deepracer
from ._aggregator import Aggregator, Window, WindowEmitter
from . import log, metrics, state

__all__ = [
    "Aggregator",
    "Emitter",
    "Enricher",
    "Filter",
    "Record",
    "Reward",
    "Score",
    "Scorer",
    "SettingError",
    "Settings",
    "Window",
    "WindowEmitter",
    "deepracer",
    "log",
    "metrics",
    "state",
]
