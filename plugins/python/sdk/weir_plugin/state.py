"""Per-plugin key-value state, kept by weir and checkpointed with the
source positions."""

from typing import Iterable, List, Optional, Sequence, Tuple


def get(key: str) -> Optional[bytes]:
    """The value stored under ``key``, if any."""
    from wit_world.imports import state as raw

    return raw.get(key)


def set(key: str, value: bytes) -> None:  # noqa: A001 - the WIT name
    """Stores ``value`` under ``key``."""
    from wit_world.imports import state as raw

    raw.set(key, bytes(value))


def delete(key: str) -> None:
    """Removes ``key``."""
    from wit_world.imports import state as raw

    raw.delete(key)


def get_many(keys: Sequence[str]) -> List[Optional[bytes]]:
    """The values stored under each of ``keys``, read in one host call
    (``None`` where a key has none): for a plugin that reads the state of a
    whole batch's keys at once."""
    from wit_world.imports import state as raw

    answer = raw.get_many(list(keys))
    values: List[Optional[bytes]] = []
    start = 0
    for end, found in zip(answer.ends, answer.found):
        values.append(bytes(answer.data[start:end]) if found else None)
        start = end
    return values


def set_many(entries: Iterable[Tuple[str, bytes]]) -> None:
    """Stores each ``(key, value)`` in order, in one host call: what
    :func:`set` does one by one."""
    from wit_world.imports import state as raw

    keys: List[str] = []
    values: List[bytes] = []
    for key, value in entries:
        keys.append(key)
        values.append(bytes(value))
    raw.set_many(keys, values)
