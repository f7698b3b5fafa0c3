"""Metrics, exported by weir with the prefix ``weir_plugin_`` and a
``plugin`` label (counters also get the suffix ``_total``)."""


def counter_add(name: str, delta: int = 1) -> None:
    """Adds ``delta`` to the counter ``name``."""
    from wit_world.imports import metrics as raw

    raw.counter_add(name, delta)


def gauge_set(name: str, value: float) -> None:
    """Sets the gauge ``name``."""
    from wit_world.imports import metrics as raw

    raw.gauge_set(name, float(value))


def histogram_observe(name: str, value: float) -> None:
    """Records one observation in the histogram ``name``."""
    from wit_world.imports import metrics as raw

    raw.histogram_observe(name, float(value))
