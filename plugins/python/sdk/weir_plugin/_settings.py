"""A plugin's settings, as the pipeline config gives them."""

from typing import Callable, Iterable, Iterator, Optional, Tuple, TypeVar

T = TypeVar("T")


class SettingError(ValueError):
    """A setting is missing or cannot be read as the type asked for."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _convert(kind: Callable[[str], T], raw: str) -> T:
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True  # type: ignore[return-value]
        if low in _FALSE:
            return False  # type: ignore[return-value]
        raise ValueError(raw)
    return kind(raw.strip()) if kind in (int, float) else kind(raw)


class Settings:
    """The ``(key, value)`` pairs of the stage's ``settings``; a key given
    twice keeps its last value."""

    def __init__(self, pairs: Iterable[Tuple[str, str]] = ()):
        self._pairs = dict(pairs)

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """The raw value of ``key``, or ``default``."""
        return self._pairs.get(key, default)

    def parse(self, key: str, kind: Callable[[str], T] = str) -> Optional[T]:
        """The value of ``key`` read as ``kind`` (``int``, ``float``,
        ``bool``, ``str`` or any one-argument callable), or ``None`` when it
        is not set."""
        raw = self._pairs.get(key)
        if raw is None:
            return None
        try:
            return _convert(kind, raw)
        except (TypeError, ValueError):
            name = getattr(kind, "__name__", str(kind))
            raise SettingError(f"setting `{key}`: `{raw}` is not a valid {name}") from None

    def parse_or(self, key: str, default: T) -> T:
        """The value of ``key`` read as the type of ``default``, or
        ``default`` when it is not set."""
        value = self.parse(key, type(default))
        return default if value is None else value

    def require(self, key: str, kind: Callable[[str], T] = str) -> T:
        """The value of ``key`` read as ``kind``; a :class:`SettingError`
        when it is not set."""
        value = self.parse(key, kind)
        if value is None:
            raise SettingError(f"setting `{key}` is required")
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._pairs

    def __iter__(self) -> Iterator[Tuple[str, str]]:
        return iter(self._pairs.items())

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Settings({self._pairs!r})"
