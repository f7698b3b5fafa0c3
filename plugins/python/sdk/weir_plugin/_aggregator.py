"""The aggregator kind: fold records into the host's event-time windows
and turn each closed window into records."""

import json
from typing import Any, List, Optional

from ._kinds import Emitter, _Glue, _export, _failed, describe
from ._record import Record, _View
from . import _kinds, log


class Window:
    """One event-time window, as the host assigned it."""

    __slots__ = ("key", "start", "end")

    def __init__(self, key: bytes, start: int, end: int):
        #: The window's key: its records' key, or ``b""`` for per-partition
        #: windows.
        self.key = bytes(key)
        #: Window start, ms since the Unix epoch (inclusive).
        self.start = start
        #: Window end, ms since the Unix epoch (exclusive).
        self.end = end

    def key_text(self) -> Optional[str]:
        """The key as text; ``None`` when it is empty or not UTF-8."""
        try:
            return self.key.decode("utf-8") or None
        except UnicodeDecodeError:
            return None

    def __repr__(self) -> str:
        return f"Window({self.key!r}, {self.start}, {self.end})"


class WindowEmitter(Emitter):
    """Where an aggregator puts the records it makes from a closed window:
    :meth:`emit` keys them by the window's key (none for a per-partition
    window)."""

    __slots__ = ("_key",)

    def __init__(self) -> None:
        super().__init__()
        self._key: Optional[bytes] = None

    def emit(self, value: Any) -> None:
        self.emit_with(self._key, value)


class Aggregator:
    """Folds records into event-time windows; emits records when a window
    closes.

    The host keeps each open window's accumulator as the bytes :meth:`save`
    returns. Per batch and window the SDK calls :meth:`load` once,
    :meth:`accumulate` for each record and :meth:`save` once; :meth:`emit`
    gets the final accumulator. By default accumulators are saved as JSON
    and a new window starts from :meth:`zero`. Keep no window data on
    ``self``: an instance may be recreated at any time.
    """

    _weir_abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _export(cls, "AggregatorPlugin", _AggregatorPlugin)

    def init(self, settings: Any) -> None:
        """Called once per instance before any call."""

    def zero(self, window: Window) -> Any:
        """The accumulator of a window before its first record."""
        return None

    def load(self, window: Window, saved: Optional[bytes]) -> Any:
        """The accumulator from its saved bytes (``None``: a new window)."""
        return self.zero(window) if saved is None else json.loads(saved)

    def accumulate(self, window: Window, accumulator: Any, record: Record) -> Any:
        """Returns ``accumulator`` with ``record`` folded in. An exception
        fails only this record; raise it before changing a mutable
        accumulator."""
        raise NotImplementedError

    def save(self, accumulator: Any) -> bytes:
        """The bytes kept for the accumulator (JSON by default)."""
        return json.dumps(accumulator, separators=(",", ":")).encode("utf-8")

    def emit(self, window: Window, accumulator: Any, out: WindowEmitter) -> None:
        """Turns a closed window's final accumulator into records."""
        raise NotImplementedError


class _AggregatorPlugin(_Glue):
    def accumulate(self, batch: Any, groups: List[Any]) -> Any:
        try:
            return self._accumulate(_View(batch), groups)
        except BaseException as e:
            _failed(e)
            raise

    def emit(self, windows: List[Any]) -> Any:
        try:
            return self._emit(windows)
        except BaseException as e:
            _failed(e)
            raise

    def _accumulate(self, view: _View, groups: List[Any]) -> Any:
        from wit_world.exports.aggregator_plugin import Accumulated
        from wit_world.imports.types import RecordError

        plugin = _kinds._plugin
        accumulators: List[bytes] = []
        errors: List[Any] = []
        for group in groups:
            window = Window(group.key, group.start, group.end)
            saved = None if group.accumulator is None else bytes(group.accumulator)
            try:
                acc = plugin.load(window, saved)
            except Exception as e:
                message = "cannot load the window's accumulator: " + describe(e)
                errors.extend(RecordError(i, message) for i in group.records)
                accumulators.append(saved or b"")
                continue
            for i in group.records:
                try:
                    acc = plugin.accumulate(window, acc, Record(view, i))
                except Exception as e:
                    errors.append(RecordError(i, describe(e)))
            accumulators.append(bytes(plugin.save(acc)))
        return Accumulated(accumulators, errors)

    def _emit(self, windows: List[Any]) -> Any:
        from wit_world.exports.aggregator_plugin import Results

        plugin = _kinds._plugin
        out = WindowEmitter()
        for i, closed in enumerate(windows):
            window = Window(closed.key, closed.start, closed.end)
            mark = out._mark()
            out._input = i
            out._key = window.key or None
            try:
                plugin.emit(window, plugin.load(window, bytes(closed.accumulator)), out)
            except Exception as e:
                out._rewind(mark)
                log.error(
                    f"window {window.start}..{window.end} of key {window.key!r} "
                    f"skipped: {describe(e)}"
                )
        return Results(out._columns(), out._inputs)
