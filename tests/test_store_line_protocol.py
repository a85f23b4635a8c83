"""Line protocol: golden escapes, and property round trips through our parser and a real InfluxDB."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.store.line_parser import parse_line
from monitor.store.line_protocol import field_set, format_field_value, render_records, series_key
from monitor.store.series import NumericSeries
from monitor.types import FieldValue, Record

# Names: any character a name can carry (no backslash, newline or carriage return).
_name_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\")
names = st.text(_name_chars, min_size=1, max_size=10).filter(lambda s: s != "time")
measurements = names.filter(lambda s: not s.startswith("#"))
# The characters escaping is about, dense enough that every pairing of them shows up.
_tricky = st.text(st.sampled_from(',= "#a\u00a0'), min_size=1, max_size=6).filter(lambda s: s != "time")
field_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)


@st.composite
def records(draw: st.DrawFn) -> Record:
    name = st.one_of(names, _tricky)
    tags = draw(st.dictionaries(name, name, max_size=3))
    fields = draw(st.dictionaries(name.filter(lambda k: k not in tags), field_values, min_size=1, max_size=4))
    time_ns = draw(st.integers(-(2**62), 2**62))
    measurement = draw(st.one_of(measurements, _tricky.filter(lambda s: not s.startswith("#"))))
    return Record(measurement, time_ns, fields, tags)


@pytest.mark.parametrize(
    ("record", "line"),
    [
        (Record("spasm event", 1, {"x": 1.0}), r"spasm\ event x=1.0 1"),
        (Record("m,1", 2, {"x": 1}), r"m\,1 x=1i 2"),
        (
            Record("m", 3, {"a b": True, "c=d": False}, {"k,1": "v =2"}),
            r"m,k\,1=v\ \=2 a\ b=true,c\=d=false 3",
        ),
        (Record("m", 4, {"note": 'say "hi" \\ bye'}), r'm note="say \"hi\" \\ bye" 4'),
        (
            Record("m", 5, {"x": 1e16, "y": -1.5e-7}, {"b": "2", "a": "1", "e": ""}),
            "m,a=1,b=2 x=1e+16,y=-1.5e-07 5",
        ),
    ],
)
def test_golden_lines(record: Record, line: str) -> None:
    ((_, series, fields),), _ = render_records([record])
    assert f"{series} {fields} {record.time_ns}" == line


@pytest.mark.parametrize(
    ("measurement", "tags", "fields"),
    [
        ("a\\b", {}, {"x": 1}),
        ("#comment", {}, {"x": 1}),
        ("m", {"t": "a\nb"}, {"x": 1}),
        ("\tm", {}, {"x": 1}),
        ("m", {}, {"\tx": 1}),
        ("m", {"time": "a"}, {"x": 1}),
        ("m", {}, {"time": 1}),
        ("", {}, {"x": 1}),
    ],
)
def test_names_that_cannot_round_trip_are_refused(
    measurement: str, tags: dict[str, str], fields: dict[str, FieldValue]
) -> None:
    with pytest.raises(ValueError, match=r"."):
        render_records([Record(measurement, 1, fields, tags)])


def test_int64_overflow_and_non_finite_values() -> None:
    with pytest.raises(ValueError, match="int64"):
        format_field_value(2**63)
    assert format_field_value(float("inf")) is None
    assert field_set({"a": float("nan"), "b": 2}) == "b=2i"


@given(records())
@settings(max_examples=400, deadline=None)
def test_parser_reads_back_every_record(record: Record) -> None:
    ((_, series, fields),), _ = render_records([record])
    measurement, tags, back, time_ns = parse_line(f"{series} {fields} {record.time_ns}")
    assert (measurement, tags, back, time_ns) == (
        record.measurement,
        record.tags,
        record.fields,
        record.time_ns,
    )


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
@settings(max_examples=100, deadline=None)
def test_numeric_series_renders_like_single_records(values: list[float]) -> None:
    times = np.arange(len(values), dtype=np.int64)
    series = NumericSeries("m", times, {"v": np.array(values)}, {"p": "1"})
    key, fields, _ = series.render()
    assert key == series_key("m", {"p": "1"})
    assert fields == [field_set({"v": v}) for v in values]


def _influx(url: str, q: str, db: str | None = None) -> dict[str, Any]:
    params = {"q": q, "epoch": "ns"} | ({"db": db} if db else {})
    with urllib.request.urlopen(url + "/query", data=urllib.parse.urlencode(params).encode()) as r:
        result: dict[str, Any] = json.loads(r.read())["results"][0]
        return result


@given(record=records())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_influxdb_reads_back_every_record(influxdb_url: str, record: Record) -> None:
    """The real server is the oracle: what it stores is what the record says."""
    db = "lp_roundtrip"
    _influx(influxdb_url, f"CREATE DATABASE {db}")
    try:
        ((_, series, fields),), _ = render_records([record])
        body = f"{series} {fields} {record.time_ns}".encode()
        request = urllib.request.Request(
            f"{influxdb_url}/write?db={db}&precision=ns", data=body, method="POST"
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 204
        result = _influx(influxdb_url, "SELECT * FROM /.*/", db)
        (got,) = result["series"]
        assert got["name"] == record.measurement
        (row,) = got["values"]
        stored = {k: v for k, v in zip(got["columns"], row, strict=True) if v is not None}
        assert stored.pop("time") == record.time_ns
        for key, value in record.fields.items():
            if isinstance(value, float):
                # Go's JSON writes 2.581961001705315e16 as 25819610017053150: read it as a double.
                stored[key] = float(stored[key])
        assert stored == {**record.tags, **record.fields}
        for key, value in record.fields.items():  # JSON 1.0 reads back as 1: check the types
            assert isinstance(stored[key], bool) == isinstance(value, bool)
            assert isinstance(stored[key], str) == isinstance(value, str)
    finally:
        _influx(influxdb_url, f"DROP DATABASE {db}")
