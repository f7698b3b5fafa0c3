"""Records: views into the columnar batch weir hands a plugin."""

import json
from typing import Any, List, Optional, Sequence, Tuple


def _span(ends: Sequence[int], i: int) -> Tuple[int, int]:
    return (ends[i - 1] if i else 0), ends[i]


def _not_json(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON value")


class _View:
    """The columns of one batch."""

    __slots__ = (
        "origin",
        "partition",
        "values",
        "value_ends",
        "keys",
        "key_ends",
        "has_key",
        "header_ends",
        "header_data",
        "header_data_ends",
        "timestamps",
        "positions",
        "position_ends",
    )

    def __init__(self, batch: Any):
        c = batch.records
        self.origin = batch.origin
        self.partition = batch.partition
        self.values = c.values
        self.value_ends = c.value_ends
        self.keys = c.keys
        self.key_ends = c.key_ends
        self.has_key = c.has_key
        self.header_ends = c.header_ends
        self.header_data = c.header_data
        self.header_data_ends = c.header_data_ends
        self.timestamps = batch.timestamps
        self.positions = batch.positions
        self.position_ends = batch.position_ends

    def __len__(self) -> int:
        return len(self.value_ends)


class _One:
    """The columns of a batch of one record, for :meth:`Record.of`."""

    def __init__(self, value, key, headers, timestamp_ms, position):
        data = bytearray()
        data_ends: List[int] = []
        for name, val in headers:
            data += name.encode("utf-8")
            data_ends.append(len(data))
            data += val
            data_ends.append(len(data))
        self.origin = "test"
        self.partition = "0"
        self.values = bytes(value)
        self.value_ends = [len(value)]
        self.keys = bytes(key or b"")
        self.key_ends = [len(self.keys)]
        self.has_key = bytes([0 if key is None else 1])
        self.header_ends = [len(headers)]
        self.header_data = bytes(data)
        self.header_data_ends = data_ends
        self.timestamps = [timestamp_ms]
        self.positions = position.encode("ascii")
        self.position_ends = [len(self.positions)]


class Record:
    """One record of a batch. Reading a field copies only that field."""

    __slots__ = ("_v", "index")

    def __init__(self, view: Any, index: int):
        self._v = view
        #: The record's index in its batch.
        self.index = index

    @classmethod
    def of(
        cls,
        value: bytes,
        key: Optional[bytes] = None,
        headers: Sequence[Tuple[str, bytes]] = (),
        timestamp_ms: int = 0,
        position: str = "0",
    ) -> "Record":
        """A record on its own, for testing a plugin's logic in CPython."""
        return cls(_One(value, key, list(headers), timestamp_ms, position), 0)

    @property
    def value(self) -> bytes:
        """The payload."""
        s, e = _span(self._v.value_ends, self.index)
        return self._v.values[s:e]

    @property
    def key(self) -> Optional[bytes]:
        """The key, or ``None`` when the record has none (which is not the
        same as an empty key)."""
        if not self._v.has_key[self.index]:
            return None
        s, e = _span(self._v.key_ends, self.index)
        return self._v.keys[s:e]

    @property
    def headers(self) -> List[Tuple[str, bytes]]:
        """The headers, in order, as ``(name, value)`` pairs."""
        v = self._v
        first, last = _span(v.header_ends, self.index)
        out = []
        for h in range(first, last):
            ns, ne = _span(v.header_data_ends, 2 * h)
            vs, ve = _span(v.header_data_ends, 2 * h + 1)
            out.append((v.header_data[ns:ne].decode("utf-8", "replace"), v.header_data[vs:ve]))
        return out

    def header(self, name: str) -> Optional[bytes]:
        """The value of the first header called ``name``, if any."""
        for n, value in self.headers:
            if n == name:
                return value
        return None

    @property
    def timestamp_ms(self) -> int:
        """When the record was produced, in ms since the Unix epoch."""
        return self._v.timestamps[self.index]

    @property
    def position(self) -> str:
        """Its offset or sequence number in its partition or shard."""
        s, e = _span(self._v.position_ends, self.index)
        return self._v.positions[s:e].decode("ascii")

    @property
    def origin(self) -> str:
        """The topic or stream it came from."""
        return self._v.origin

    @property
    def partition(self) -> str:
        """Its partition or shard."""
        return self._v.partition

    def text(self) -> str:
        """The value as UTF-8 text."""
        return self.value.decode("utf-8")

    def json(self) -> Any:
        """The value parsed as JSON (strictly: ``NaN`` and ``Infinity`` are
        not JSON)."""
        return json.loads(self.value, parse_constant=_not_json)

    def __repr__(self) -> str:
        return f"Record(index={self.index}, value={self.value[:60]!r})"
