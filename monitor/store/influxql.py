"""Quoting for InfluxQL: the one place a name or a value is put into a query's text.

InfluxQL reads a double-quoted identifier and a single-quoted string the same way
(influxql's ``ScanString``): a backslash escapes ``\\``, ``"``, ``'`` and ``n`` (newline),
any other escape is an error, and a raw newline ends the query with "bad string". Every
identifier (database, measurement, tag or field key) and every string literal built from
data goes through these two functions; nothing is interpolated bare.
"""

from __future__ import annotations

_IDENT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n"})


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted InfluxQL identifier.

    Examples
    --------
    >>> print(quote_ident('spasm "db"'))
    "spasm \\"db\\""
    >>> print("CREATE DATABASE " + quote_ident("a;DROP"))
    CREATE DATABASE "a;DROP"
    """
    return '"' + name.translate(_IDENT_ESCAPES) + '"'


def quote_string(value: str) -> str:
    """``value`` as a single-quoted InfluxQL string literal (a tag value in WHERE).

    Examples
    --------
    >>> print(quote_string("O'Brien"))
    'O\\'Brien'
    """
    return "'" + value.translate(_STRING_ESCAPES) + "'"
