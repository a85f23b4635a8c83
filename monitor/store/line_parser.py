"""Reads back the line protocol that :mod:`monitor.store.line_protocol` writes.

The spool keeps each point as its series key and field set, so the embedded store
(no InfluxDB configured) answers queries by parsing them. This parser knows exactly
the escaping rules of the writer, and the property tests use it as one oracle (the
real InfluxDB server is the other).
"""

from __future__ import annotations

from monitor.types import FieldValue


def parse_series(series: str) -> tuple[str, dict[str, str]]:
    """Measurement and tags of an escaped series key ``measurement,k=v,...``."""
    parts = _split_unescaped(series, ",", quotes=False)
    measurement = _unescape(parts[0])
    tags = {}
    for part in parts[1:]:
        key, value = _split_unescaped(part, "=", maxsplit=1, quotes=False)
        tags[_unescape(key)] = _unescape(value)
    return measurement, tags


def parse_fields(fields: str) -> dict[str, FieldValue]:
    """Field values of an escaped field set ``k=1.5,n=3i,s="text",b=true``."""
    result: dict[str, FieldValue] = {}
    for part in _split_unescaped(fields, ","):
        key, raw = _split_unescaped(part, "=", maxsplit=1)
        result[_unescape(key)] = _parse_value(raw)
    return result


def parse_line(line: str) -> tuple[str, dict[str, str], dict[str, FieldValue], int]:
    """Measurement, tags, fields and time_ns of one line ``series fields time``."""
    # Tags know no quotes, and the time holds no space: split at the first unescaped space
    # and at the last space; what lies between is the field set.
    series, rest = _split_unescaped(line, " ", maxsplit=1, quotes=False)
    fields, time_ns = rest.rsplit(" ", 1)
    measurement, tags = parse_series(series)
    return measurement, tags, parse_fields(fields), int(time_ns)


def _parse_value(raw: str) -> FieldValue:
    if raw.startswith('"'):
        body = raw[1:-1]
        if "\\" not in body:
            return body
        out, i = [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
                i += 1
            out.append(body[i])
            i += 1
        return "".join(out)
    if raw in ("true", "false"):
        return raw == "true"
    if raw.endswith("i"):
        return int(raw[:-1])
    return float(raw)


def _split_unescaped(text: str, sep: str, maxsplit: int = -1, quotes: bool = True) -> list[str]:
    """Split at ``sep`` outside backslash escapes (and, with ``quotes``, quoted strings)."""
    if "\\" not in text and '"' not in text:
        return text.split(sep, maxsplit)
    parts: list[str] = []
    start, i, quoted, after_equals = 0, 0, False, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            after_equals = False
            continue
        # Only a field value opens a quoted string: a '"' right after an unescaped '='.
        if quotes and char == '"' and (quoted or after_equals):
            quoted = not quoted
        elif char == sep and not quoted and (maxsplit < 0 or len(parts) < maxsplit):
            parts.append(text[start:i])
            start = i + 1
        after_equals = char == "=" and not quoted
        i += 1
    parts.append(text[start:])
    return parts


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\,", ",").replace("\\=", "=").replace("\\ ", " ")
