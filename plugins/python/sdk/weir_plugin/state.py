"""Per-plugin key-value state, kept by weir and checkpointed with the
source positions."""

from typing import Optional


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
