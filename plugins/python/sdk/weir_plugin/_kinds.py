"""The plugin kinds, and the glue that exports a subclass to weir.

Defining a subclass of a kind in a module makes that module a plugin of
the kind: the class componentize-py looks for (``FilterPlugin`` and so on)
is added to the module. If a module defines several subclasses, the last
one is the plugin.
"""

import json
import sys
import traceback
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from ._record import Record, _View
from ._settings import Settings

# The plugin object of this instance (each instance has its own
# interpreter, so a module global is per instance).
_plugin: Any = None


def describe(exc: BaseException) -> str:
    """An exception as weir reports it: its own line, then the traceback
    (without the SDK's own frames around the plugin's methods)."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if not f.filename.endswith("weir_plugin/_kinds.py")]
    )
    head = "".join(te.format_exception_only()).strip().splitlines()[-1]
    return head + "\n" + "".join(te.format()).rstrip()


def _export(cls: type, interface: str, glue: type) -> None:
    module = sys.modules.get(cls.__module__)
    if module is not None and not cls.__dict__.get("_weir_abstract", False):
        setattr(module, interface, glue)
        glue._weir_class = cls


def _start(cls: type, pairs: Iterable[Tuple[str, str]]) -> None:
    """Creates the plugin object and runs its ``init``."""
    global _plugin
    from componentize_py_types import Err

    try:
        plugin = cls()
        plugin.init(Settings(pairs))
    except Exception as e:
        raise Err(describe(e)) from None
    _plugin = plugin


def _failed(exc: BaseException) -> None:
    """Logs a failure of a whole call, which then traps: the host reports
    the call's error with this traceback."""
    from . import log

    log.error("the call failed: " + describe(exc))


class _Glue:
    """What componentize-py calls for an exported kind: ``init`` creates the
    plugin object; ``process`` runs the kind's ``_decide`` over the batch,
    logging a failure of the whole call before it traps."""

    _weir_class: type

    def init(self, settings: List[Tuple[str, str]]) -> None:
        _start(self._weir_class, settings)

    def process(self, batch: Any) -> Any:
        try:
            return self._decide(_View(batch))
        except BaseException as e:
            _failed(e)
            raise

    def _decide(self, view: _View) -> Any:
        raise NotImplementedError


def _as_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


class Filter:
    """Keeps or drops each record."""

    _weir_abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _export(cls, "FilterPlugin", _FilterPlugin)

    def init(self, settings: Settings) -> None:
        """Called once per instance before any record."""

    def keep(self, record: Record) -> bool:
        """Whether to keep ``record``."""
        raise NotImplementedError


class _FilterPlugin(_Glue):
    def _decide(self, view: _View) -> Any:
        from wit_world.exports.filter_plugin import Verdicts
        from wit_world.imports.types import RecordError

        keep_one = _plugin.keep
        keep: List[int] = []
        errors: List[Any] = []
        for i in range(len(view)):
            try:
                if keep_one(Record(view, i)):
                    keep.append(i)
            except Exception as e:
                errors.append(RecordError(i, describe(e)))
        return Verdicts(keep, errors)


class Emitter:
    """Where an enricher puts the records it makes from one input."""

    __slots__ = (
        "_values",
        "_value_ends",
        "_keys",
        "_key_ends",
        "_has_key",
        "_header_ends",
        "_header_data",
        "_header_data_ends",
        "_headers",
        "_inputs",
        "_input",
        "_record",
    )

    def __init__(self) -> None:
        self._values = bytearray()
        self._value_ends: List[int] = []
        self._keys = bytearray()
        self._key_ends: List[int] = []
        self._has_key = bytearray()
        self._header_ends: List[int] = []
        self._header_data = bytearray()
        self._header_data_ends: List[int] = []
        self._headers = 0
        self._inputs: List[int] = []
        self._input = 0
        self._record: Optional[Record] = None

    def emit(self, value: Any) -> None:
        """Emits a record with ``value`` (bytes, text, or anything else as
        JSON) that keeps the input record's key and headers."""
        record = self._record
        if record is None:
            self.emit_with(None, value)
        else:
            self.emit_with(record.key, value, record.headers)

    def emit_with(
        self,
        key: Optional[Union[bytes, str]],
        value: Any,
        headers: Sequence[Tuple[str, Union[bytes, str]]] = (),
    ) -> None:
        """Emits a record with a key (``None`` for none), a value and
        headers."""
        self._values += _as_bytes(value)
        self._value_ends.append(len(self._values))
        if key is not None:
            self._keys += _as_bytes(key)
        self._has_key.append(0 if key is None else 1)
        self._key_ends.append(len(self._keys))
        for name, data in headers:
            self._header_data += name.encode("utf-8")
            self._header_data_ends.append(len(self._header_data))
            self._header_data += _as_bytes(data)
            self._header_data_ends.append(len(self._header_data))
        self._headers += len(headers)
        self._header_ends.append(self._headers)
        self._inputs.append(self._input)

    def _mark(self) -> Tuple[int, ...]:
        return (
            len(self._values),
            len(self._value_ends),
            len(self._keys),
            len(self._header_data),
            len(self._header_data_ends),
            self._headers,
        )

    def _columns(self) -> Any:
        """What was emitted, as the WIT ``columns``."""
        from wit_world.imports.types import Columns

        return Columns(
            bytes(self._values),
            self._value_ends,
            bytes(self._keys),
            self._key_ends,
            bytes(self._has_key),
            self._header_ends,
            bytes(self._header_data),
            self._header_data_ends,
        )

    def _rewind(self, mark: Tuple[int, ...]) -> None:
        """Drops what was emitted since ``mark`` (a failed input's output)."""
        values, records, keys, data, data_ends, headers = mark
        del self._values[values:]
        del self._value_ends[records:]
        del self._keys[keys:]
        del self._key_ends[records:]
        del self._has_key[records:]
        del self._header_ends[records:]
        del self._header_data[data:]
        del self._header_data_ends[data_ends:]
        del self._inputs[records:]
        self._headers = headers


class Enricher:
    """Maps each record to zero or more records."""

    _weir_abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _export(cls, "EnricherPlugin", _EnricherPlugin)

    def init(self, settings: Settings) -> None:
        """Called once per instance before any record."""

    def enrich(self, record: Record, out: Emitter) -> None:
        """Emits the records made from ``record`` into ``out``."""
        raise NotImplementedError


class _EnricherPlugin(_Glue):
    def _decide(self, view: _View) -> Any:
        from wit_world.exports.enricher_plugin import Enrichment
        from wit_world.imports.types import RecordError

        enrich = _plugin.enrich
        out = Emitter()
        errors: List[Any] = []
        for i in range(len(view)):
            mark = out._mark()
            record = Record(view, i)
            out._input = i
            out._record = record
            try:
                enrich(record, out)
            except Exception as e:
                out._rewind(mark)
                errors.append(RecordError(i, describe(e)))
        return Enrichment(out._columns(), out._inputs, errors)


class Score:
    """A score with optional reasons (labels)."""

    __slots__ = ("value", "labels")

    def __init__(self, value: float, labels: Iterable[str] = ()):
        self.value = float(value)
        self.labels = list(labels)

    def with_label(self, label: str) -> "Score":
        """This score with one more reason."""
        self.labels.append(label)
        return self

    def __repr__(self) -> str:
        return f"Score({self.value!r}, {self.labels!r})"


class Scorer:
    """Gives each record a score and optional reasons."""

    _weir_abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _export(cls, "ScorerPlugin", _ScorerPlugin)

    def init(self, settings: Settings) -> None:
        """Called once per instance before any record."""

    def score(self, record: Record) -> Union[float, Score]:
        """The score of ``record``: a number, or a :class:`Score` with
        labels."""
        raise NotImplementedError


class _ScorerPlugin(_Glue):
    def _decide(self, view: _View) -> Any:
        from wit_world.exports.scorer_plugin import Label, Scores
        from wit_world.imports.types import RecordError

        score_one = _plugin.score
        scores: List[float] = []
        labels: List[Any] = []
        errors: List[Any] = []
        for i in range(len(view)):
            try:
                s = score_one(Record(view, i))
                if isinstance(s, Score):
                    scores.append(s.value)
                    labels.extend(Label(i, text) for text in s.labels)
                else:
                    scores.append(float(s))
            except Exception as e:
                scores.append(0.0)
                errors.append(RecordError(i, describe(e)))
        return Scores(scores, labels, errors)
