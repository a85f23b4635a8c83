"""InfluxDB line protocol, built in bulk: one spool row per point, no Point object per sample.

A point is ``<series> <fields> <time_ns>``, where the *series* is the escaped measurement
and sorted tag set and the *fields* are the escaped field set. The spool stores the two
strings apart so that the forwarder joins rows into a request body inside SQLite.

Escaping (InfluxDB line protocol reference, "Special characters"):

- measurement: ``,`` and space are backslash-escaped;
- tag keys, tag values and field keys: ``,``, ``=`` and space are backslash-escaped;
- string field values are double-quoted, with ``"`` and ``\\`` backslash-escaped;
- integers carry an ``i`` suffix, booleans are ``true``/``false``, floats are Python's
  shortest round-trip ``repr`` (Go's ``ParseFloat`` reads it back to the same double).

Names that no escaping can carry are refused with :class:`ValueError` rather than written
wrongly: a backslash in a name (InfluxDB 1.x keeps it literally, so it does not round-trip),
a control character in a name (newline ends the line; InfluxDB trims a leading tab, seen on
1.6.7), a measurement starting with ``#`` (a comment line),
and the key ``time`` (InfluxDB rejects it). Tags with an empty value are omitted: InfluxDB
treats an absent tag and an empty one alike. Non-finite floats have no line-protocol form;
such fields are left out, and a point with no field left is not written (the count of such
points is returned to the caller).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

from monitor.types import FieldValue, Record

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_STRING_FIELD_BYTES = 65535  # InfluxDB 1.x/2.x limit on one string field value

_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
_UNREPRESENTABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f]")  # backslash and control characters (Cc)


def escape_measurement(name: str) -> str:
    """The measurement name escaped for line protocol.

    Examples
    --------
    >>> escape_measurement("spasm event")
    'spasm\\\\ event'
    """
    _check_name(name, "measurement")
    if name.startswith("#"):
        raise ValueError(f"measurement {name!r} starts with '#', which line protocol reads as a comment")
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_key(name: str, what: str = "tag key") -> str:
    """A tag key, tag value or field key escaped for line protocol.

    Examples
    --------
    >>> escape_key("a=b c")
    'a\\\\=b\\\\ c'
    """
    _check_name(name, what)
    return name.translate(_KEY_ESCAPES)


def escape_string_field(value: str) -> str:
    """A string field value, quoted and escaped.

    Examples
    --------
    >>> escape_string_field('say "hi"')
    '"say \\\\"hi\\\\""'
    """
    if len(value.encode()) > MAX_STRING_FIELD_BYTES:
        raise ValueError(f"string field of {len(value.encode())} bytes exceeds {MAX_STRING_FIELD_BYTES}")
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...`` with tags sorted by key (InfluxDB's own order)."""
    parts = [escape_measurement(measurement)]
    for key in sorted(tags):
        value = tags[key]
        if value == "":
            continue  # empty tag values are not representable; absent means the same
        if key == "time":
            raise ValueError("tag key 'time' is rejected by InfluxDB")
        parts.append(f"{escape_key(key)}={escape_key(value, 'tag value')}")
    return ",".join(parts)


def field_set(fields: Mapping[str, FieldValue]) -> str:
    """``key=value,...`` for one point; non-finite floats are left out ("" if none is left)."""
    parts = []
    for key, value in fields.items():
        if key == "time":
            raise ValueError("field key 'time' is rejected by InfluxDB")
        rendered = format_field_value(value)
        if rendered is not None:
            parts.append(f"{escape_key(key, 'field key')}={rendered}")
    return ",".join(parts)


def format_field_value(value: FieldValue) -> str | None:
    """One field value in line protocol, or None for a non-finite float (not writable)."""
    # bool before int: bool is a subclass of int in Python.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"integer field {value} does not fit InfluxDB's int64")
        return f"{int(value)}i"
    if isinstance(value, float):
        # float.__repr__, not repr: numpy 2 spells repr(np.float64(1.5)) "np.float64(1.5)".
        return float.__repr__(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return escape_string_field(value)
    raise TypeError(f"field value {value!r} is not float, int, str or bool")


def render_records(records: Iterable[Record]) -> tuple[list[tuple[Record, str, str]], int]:
    """Series key and field set of each record, for the spool.

    The series key is cached per (measurement, tag set), which is what makes a stream
    of same-tagged feature records cheap.

    Returns
    -------
    rows : list of (record, series, fields)
        One per writable record, in input order.
    n_unwritable : int
        Records left out because none of their fields is finite.
    """
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    rows: list[tuple[Record, str, str]] = []
    n_unwritable = 0
    for record in records:
        cache_key = (record.measurement, tuple(record.tags.items()))
        series = cache.get(cache_key)
        if series is None:
            series = cache[cache_key] = series_key(record.measurement, record.tags)
        fields = field_set(record.fields)
        if not fields:
            n_unwritable += 1
            continue
        _check_time(record.time_ns)
        rows.append((record, series, fields))
    return rows, n_unwritable


def _check_time(time_ns: int) -> None:
    if isinstance(time_ns, bool) or not isinstance(time_ns, int) or not INT64_MIN < time_ns <= INT64_MAX:
        raise ValueError(f"time_ns must be an int64 of ns since the Unix epoch, got {time_ns!r}")


def unrepresentable_char(name: str) -> str | None:
    """The first character of ``name`` that no line-protocol escaping carries, or None.

    The one definition of a name line protocol can hold (a backslash or a control
    character cannot: see the module docstring); config validation asks it too, so a name
    refused here is refused up front, not on every record.

    Examples
    --------
    >>> unrepresentable_char("gastrocnemius, left")
    >>> unrepresentable_char("calf" + chr(10))
    '\\n'
    """
    bad = _UNREPRESENTABLE.search(name)
    return bad.group() if bad else None


def _check_name(name: str, what: str) -> None:
    if not name:
        raise ValueError(f"{what} must not be empty")
    bad = unrepresentable_char(name)
    if bad:
        raise ValueError(f"{what} {name!r} holds {bad!r}, which line protocol cannot carry")
