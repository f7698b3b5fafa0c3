"""Log lines in weir's log, with the plugin's name."""


def _write(level_name: str, message: str) -> None:
    from wit_world.imports import log as raw

    raw.log(getattr(raw.Level, level_name), str(message))


def trace(message: str) -> None:
    """A very detailed diagnostic."""
    _write("TRACE", message)


def debug(message: str) -> None:
    """A diagnostic for plugin authors."""
    _write("DEBUG", message)


def info(message: str) -> None:
    """Normal operation."""
    _write("INFO", message)


def warn(message: str) -> None:
    """Something unexpected the plugin handled."""
    _write("WARN", message)


def error(message: str) -> None:
    """A failure."""
    _write("ERROR", message)
