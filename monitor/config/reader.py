"""Typed reading of one TOML table, with one-line errors that name the key and the expected form.

Every section of ``config.toml`` is read through a :class:`TableReader`: each getter takes
the key, checks its type and range, and records that the key was used; :meth:`done`
rejects whatever key is left (a typo must not be silently ignored), suggesting the
nearest known key. A section that is a parameter class (``[ble]``, ``[dsp]``, the
thresholds of ``[alerts]``, ``[clinical]``) is read by :meth:`TableReader.dataclass`: its
keys, types and defaults come from the class's fields and its ranges from the class's own
checks, so each default and limit is written once, in the class.

Why not pydantic v2 or msgspec: neither suggests the key meant for a misspelt one (pydantic
says "Extra inputs are not permitted", msgspec "Object contains unknown field"), both word
errors their own way (pydantic on several lines), so a translation layer would replace this
reader rather than remove it; the checks that are most of the code (secrets never inline,
URLs without credentials, joint pairs, tags line protocol can carry) stay hand-written
either way; msgspec checks only while decoding, so the classes built directly (tests, the
demo) would still need their own checks; and pydantic would add a compiled dependency to
the gateway to replace only the typed getters below, which the translation layer would
about equal in size.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from monitor.bounds import describe_bounds, shown, within_bounds
from monitor.errors import ConfigError
from monitor.store.line_protocol import unrepresentable_char

_MISSING: Any = object()
T = TypeVar("T")


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

    def dataclass(self, cls: type[T], special: Mapping[str, Callable[[TableReader], Any]] | None = None) -> T:
        """Build the parameter class ``cls`` from the keys of this table that name its fields.

        Each field's key is its name (or its ``metadata["toml_key"]``); its type (bool, int,
        float, str, a ``Literal`` of strings, a tuple of floats, any of them ``| None``)
        is checked here, an absent key takes the field's default, and the class's own
        ``__post_init__`` checks the ranges: its ``ValueError`` becomes a ConfigError
        naming the key in this section. Keys of other fields stay for the caller.

        Parameters
        ----------
        cls : dataclass type
            The parameter class.
        special : mapping, optional
            A reader for a key that is not a plain type (``dsp.mains_hz`` takes "none").
        """
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = field.metadata.get("toml_key", field.name)
            if not field.init or not self.has(key):
                continue
            read = (special or {}).get(key)
            values[field.name] = read(self) if read is not None else self._typed(key, hints[field.name])
        try:
            return cls(**values)
        except ValueError as error:
            raise ConfigError(f"{self.section}.{error}") from None

    def string(self, name: str, default: str | None = _MISSING, choices: Sequence[str] = ()) -> str:
        """A string; with ``choices`` one of them."""
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, "a string" + _choices(choices), value)
        if choices and value not in choices:
            near = difflib.get_close_matches(value, choices, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            expected = "one of " + ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{self.error(name, expected, value).args[0]}{hint}")
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
        bounds = describe_bounds(above=above, at_least=at_least, at_most=at_most)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(name, " ".join(filter(None, ("a number", bounds))), value)
        if not within_bounds(value, above=above, at_least=at_least, at_most=at_most):
            raise ConfigError(f"{self.key(name)} must be {bounds}, got {shown(value)}")
        return float(value)

    def integer(
        self,
        name: str,
        default: int | None = _MISSING,
        *,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> int:
        """A whole number (TOML integer) within the bounds given."""
        value = self._get(name, default)
        bounds = describe_bounds(at_least=at_least, at_most=at_most)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, " ".join(filter(None, ("a whole number", bounds))), value)
        if not within_bounds(value, at_least=at_least, at_most=at_most):
            raise ConfigError(f"{self.key(name)} must be {bounds}, got {shown(value)}")
        return value

    def numbers(self, name: str, count: int) -> tuple[float, ...]:
        """A list of exactly ``count`` numbers (``clonus_band_hz = [2.5, 9.0]``)."""
        value = self._get(name, _MISSING)
        if not (
            isinstance(value, list)
            and len(value) == count
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            raise self.error(name, f"a list of {count} numbers", value)
        return tuple(float(v) for v in value)

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

    def _typed(self, name: str, hint: Any) -> Any:
        """The value of key ``name`` read as the field type ``hint`` says."""
        args = typing.get_args(hint)
        optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
        if optional and len(args) == 2:
            hint = next(a for a in args if a is not type(None))  # TOML has no null: absent is None
            args = typing.get_args(hint)
        if hint is bool:
            return self.boolean(name)
        if hint is int:
            return self.integer(name)
        if hint is float:
            return self.number(name)
        if hint is str:
            return self.string(name)
        if typing.get_origin(hint) is Literal:
            return self.string(name, choices=args)
        if typing.get_origin(hint) is tuple and all(a is float for a in args):
            return self.numbers(name, len(args))
        raise TypeError(f"{self.key(name)}: no TOML reading for fields of type {hint}")

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
