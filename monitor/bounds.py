"""Ranges of parameter values, checked and worded one way everywhere.

Every parameter class checks its ranges in ``__post_init__`` through :func:`check_bounds`,
and ``config.toml``'s reader (:mod:`monitor.config.reader`) words its own ranges with
:func:`describe_bounds`: a value out of range reads ``<name> must be > 0, got -1`` wherever
it was caught. It lives here, below the DSP, the collector, the alerts and the config
reader, so that none of them imports another for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def check_bounds(
    params: object,
    names: Iterable[str],
    *,
    above: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    prefix: str = "",
) -> None:
    """Raise for the first attribute of ``params`` named in ``names`` outside the bounds.

    Parameters
    ----------
    params : object
        A parameter object (a dataclass being built, typically ``self``).
    names : iterable of str
        Attributes to check, in the order their errors are reported.
    above : float, optional
        Exclusive lower bound.
    at_least, at_most : float, optional
        Inclusive lower and upper bounds.
    prefix : str
        Put before the name in the message (``"OrientationParams."``); a section of
        config.toml adds its own name when it reads the class.

    Raises
    ------
    ValueError
        ``<prefix><name> must be <bounds>, got <value>``; NaN is outside every bound.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_bounds(SimpleNamespace(gain=0.5, time_s=0.0), ("gain", "time_s"), above=0)
    Traceback (most recent call last):
    ...
    ValueError: time_s must be > 0, got 0
    """
    for name in names:
        value = getattr(params, name)
        if not within_bounds(value, above=above, at_least=at_least, at_most=at_most):
            expected = describe_bounds(above=above, at_least=at_least, at_most=at_most)
            raise ValueError(f"{prefix}{name} must be {expected}, got {shown(value)}")


def within_bounds(
    value: float, *, above: float | None = None, at_least: float | None = None, at_most: float | None = None
) -> bool:
    """True if ``value`` is a number within every bound given (NaN never is)."""
    if math.isnan(value):
        return False
    return (
        (above is None or value > above)
        and (at_least is None or value >= at_least)
        and (at_most is None or value <= at_most)
    )


def shown(value: float) -> str:
    """A number as a message shows it: a whole float without its ``.0``.

    config.toml's reader turns ``tonic_max_s = -1`` into -1.0; the message says -1, as
    written, whether the class or the reader caught it.

    >>> shown(-1.0), shown(0.25), shown(100), shown(float("nan"))
    ('-1', '0.25', '100', 'nan')
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def describe_bounds(
    *, above: float | None = None, at_least: float | None = None, at_most: float | None = None
) -> str:
    """The bounds as a message says them: ``"> 0"``, ``">= 23 and <= 517"`` (empty if none)."""
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if at_least is not None:
        parts.append(f">= {at_least:g}")
    if at_most is not None:
        parts.append(f"<= {at_most:g}")
    return " and ".join(parts)
