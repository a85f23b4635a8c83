"""Typed reading of one TOML table, with one-line errors that name the key and the expected form.

Every section of ``config.toml`` is read through a :class:`TableReader`: each getter takes
the key, checks its type and range, and records that the key was used; :meth:`done`
rejects whatever key is left (a typo must not be silently ignored), suggesting the
nearest known key.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.errors import ConfigError
from monitor.store.line_protocol import unrepresentable_char

_MISSING: Any = object()


class TableReader:
    """Reads the keys of one table (``section``) and remembers which were read.

    Parameters
    ----------
    table : mapping
        The parsed TOML table.
    section : str
        Its dotted name in messages (``"store"``, ``"device[2]"``).
    """

    def __init__(self, table: object, section: str) -> None:
        if not isinstance(table, Mapping):
            raise ConfigError(f"{section} must be a table, got {_describe(table)}")
        self.table: Mapping[str, Any] = table
        self.section = section
        self._known: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.section}.{name}"

    def has(self, name: str) -> bool:
        self._known.append(name)
        return name in self.table

    def string(self, name: str, default: str | None = _MISSING, choices: Sequence[str] = ()) -> str:
        """A string; with ``choices`` one of them."""
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, "a string" + _choices(choices), value)
        if choices and value not in choices:
            raise self.error(name, "one of " + ", ".join(repr(c) for c in choices), value)
        return value

    def optional_string(self, name: str, choices: Sequence[str] = ()) -> str | None:
        if name not in self.table:
            self._known.append(name)
            return None
        return self.string(name, choices=choices)

    def number(
        self,
        name: str,
        default: float | None = _MISSING,
        *,
        above: float | None = None,
        at_least: float | None = None,
        at_most: float | None = None,
    ) -> float:
        """A finite int or float within the bounds given (``above`` is exclusive)."""
        value = self._get(name, default)
        expected = "a number" + _bounds(above, at_least, at_most)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(name, expected, value)
        if (
            (above is not None and not value > above)
            or (at_least is not None and value < at_least)
            or (at_most is not None and value > at_most)
        ):
            raise self.error(name, expected, value)
        return float(value)

    def integer(
        self,
        name: str,
        default: int | None = _MISSING,
        *,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> int:
        value = self._get(name, default)
        expected = "a whole number" + _bounds(None, at_least, at_most)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, expected, value)
        if (at_least is not None and value < at_least) or (at_most is not None and value > at_most):
            raise self.error(name, expected, value)
        return value

    def boolean(self, name: str, default: bool = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, "true or false", value)
        return value

    def check_tag(self, name: str, value: str | None, max_bytes: int, why: str) -> None:
        """Refuse a string that becomes a record tag but that line protocol cannot carry.

        ``value`` was read already (None: absent, nothing to check). ``why`` says where the
        limit comes from. A value too long is described by its size, not echoed.
        """
        if value is None:
            return
        size = len(value.encode())
        if size > max_bytes:  # before the characters: the message must not echo 70,000 of them
            raise ConfigError(
                f"{self.key(name)} must be at most {max_bytes} bytes ({why}), got {size:,} bytes"
            )
        bad = unrepresentable_char(value)
        if bad is not None:
            expected = f"free of backslashes and control characters (line protocol cannot carry {bad!r})"
            raise self.error(name, expected, value)

    def sub_table(self, name: str) -> Mapping[str, Any]:
        """A nested table (empty if absent)."""
        value = self._get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, "a table", value)
        return value

    def raw(self, name: str) -> object:
        """The value as parsed, for a caller that validates it itself."""
        self._known.append(name)
        return self.table.get(name, _MISSING)

    def done(self) -> None:
        """Reject every key that was not read."""
        for name in self.table:
            if name not in self._known:
                near = difflib.get_close_matches(name, self._known, n=1)
                known = ", ".join(sorted(set(self._known)))
                hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {known})"
                raise ConfigError(f"unknown key {self.key(name)}{hint}")

    def error(self, name: str, expected: str, value: object) -> ConfigError:
        return ConfigError(f"{self.key(name)} must be {expected}, got {_describe(value)}")

    def _get(self, name: str, default: object) -> Any:
        self._known.append(name)
        if name in self.table:
            return self.table[name]
        if default is _MISSING:
            raise ConfigError(f"{self.key(name)} is missing")
        return default


def _describe(value: object) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _choices(choices: Sequence[str]) -> str:
    return f" ({', '.join(repr(c) for c in choices)})" if choices else ""


def _bounds(above: float | None, at_least: float | None, at_most: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if at_least is not None:
        parts.append(f">= {at_least:g}")
    if at_most is not None:
        parts.append(f"<= {at_most:g}")
    return f" {' and '.join(parts)}" if parts else ""
