"""A recording's raw signals as EDF+ (European Data Format), for researchers' tools.

EDF+ is what EDFbrowser, MNE-Python, EEGLAB and most biosignal tools read; pyedflib (a
maintained binding of the reference EDFlib) writes its headers, annotations and 16-bit
scaling correctly. Layout:

- one EDF signal per stream channel (``<device> emg0``, ``<device> acc2``...), in its
  physical unit (mV, g, deg/s), at its nominal rate; data records of 1 s;
- the file starts at the whole UTC second at or before the first sample (EDF+ start times
  have one-second resolution), each frame placed at its own ``t0_ns``;
- stretches without samples (a BLE gap, before a stream starts, after it ends) are zero
  and each is an EDF+ annotation ``no data: <device> <stream>``, so a zero is never mistaken for rest;
- each channel's physical range is symmetric, ``±`` its largest magnitude rounded up so it
  fits EDF's 8-character header field: the 16-bit quantisation step is ``2·max/65535``.

The whole recording is held in memory (float64: 1 h of one 4-channel 1 kHz EMG is ~115 MB).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyedflib

from monitor.errors import StoreError
from monitor.recording import RecordingReader
from monitor.types import NS_PER_S, Frame

# EDF 16-bit samples (EDF spec, "digital minimum/maximum").
DIGITAL_MIN, DIGITAL_MAX = -32768, 32767
EDF_FIELD_CHARS = 8  # physical min/max are 8 ASCII characters in the header
EDF_LABEL_CHARS = 16
MAX_ANNOTATION_SIGNALS = 64  # edflib's limit
_UNITS = {"emg": "mV", "ecg": "mV", "acc": "g", "gyr": "deg/s", "quat": "1"}


@dataclass(frozen=True, slots=True)
class EdfSignal:
    """One exported signal: its label, unit, rate, physical maximum and number of samples."""

    label: str
    unit: str
    rate_hz: int
    physical_max: float
    samples: int


def write_edf(recording: str | Path, out: str | Path) -> list[EdfSignal]:
    """Write the raw signals of a recording (``spasm-monitor record``) as EDF+; the signals.

    Raises
    ------
    StoreError
        The recording holds no frames, or a stream's rate is not a whole number of Hz or
        changes within the recording (EDF holds one fixed rate per signal).
    """
    with RecordingReader(recording) as reader:
        patient = str(reader.config.get("patient", {}).get("id", ""))
        streams: dict[tuple[str, str], list[Frame]] = {}
        for item in reader.items(by_time=True):
            if isinstance(item, Frame):
                streams.setdefault((item.stream.device, item.stream.sensor), []).append(item)
    if not streams:
        raise StoreError(
            f"{recording}: the recording holds no raw signal frames", "record with `spasm-monitor record`"
        )
    start_ns = min(frames[0].t0_ns for frames in streams.values())
    start_ns -= start_ns % NS_PER_S
    end_ns = max(_end_ns(f) for frames in streams.values() for f in frames)
    n_records = max(1, math.ceil((end_ns - start_ns) / NS_PER_S))
    signals: list[EdfSignal] = []
    arrays: list[npt.NDArray[np.float64]] = []
    notes: list[tuple[float, float, str]] = []
    for (device, sensor), frames in sorted(streams.items()):
        rate_hz = _rate(recording, device, sensor, frames)
        data, gaps = _place(frames, start_ns, rate_hz, n_records * rate_hz)
        # One note per stream, not per channel: its channels share their samples' times.
        notes += [
            (onset_s, duration_s, f"no data: {_short(device)} {sensor}") for onset_s, duration_s in gaps
        ]
        for ch in range(data.shape[1]):
            label = f"{_short(device)} {frames[0].kind.value}{ch}"[-EDF_LABEL_CHARS:]
            signals.append(
                EdfSignal(
                    label, _UNITS.get(frames[0].kind.value, ""), rate_hz, _bound(data[:, ch]), len(data)
                )
            )
            arrays.append(np.ascontiguousarray(data[:, ch]))  # edflib reads C order
    _write(out, signals, arrays, notes, start_ns, patient)
    return signals


def _write(
    out: str | Path,
    signals: list[EdfSignal],
    arrays: list[npt.NDArray[np.float64]],
    notes: list[tuple[float, float, str]],
    start_ns: int,
    patient: str,
) -> None:
    writer = pyedflib.EdfWriter(str(out), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setStartdatetime(dt.datetime.fromtimestamp(start_ns // NS_PER_S, dt.UTC).replace(tzinfo=None))
        writer.setPatientCode(patient)  # the pseudonym; EDF's name field stays empty
        writer.setEquipment("spasm-monitor")
        # Annotations live in the data records, a few per record and annotation signal: room
        # for every note (edflib allows at most 64 annotation signals).
        n_records = max(1, len(arrays[0]) // signals[0].rate_hz)
        writer.set_number_of_annotation_signals(min(MAX_ANNOTATION_SIGNALS, 1 + len(notes) // n_records))
        writer.setSignalHeaders(
            [
                {
                    "label": s.label,
                    "dimension": s.unit,
                    "sample_frequency": s.rate_hz,
                    "physical_max": s.physical_max,
                    "physical_min": -s.physical_max,
                    "digital_max": DIGITAL_MAX,
                    "digital_min": DIGITAL_MIN,
                    "transducer": "",
                    "prefilter": "",
                }
                for s in signals
            ]
        )
        writer.writeSamples(arrays)
        for onset_s, duration_s, text in notes:
            writer.writeAnnotation(onset_s, duration_s, text)
    finally:
        writer.close()


def _place(
    frames: list[Frame], start_ns: int, rate_hz: int, n_samples: int
) -> tuple[npt.NDArray[np.float64], list[tuple[float, float]]]:
    """The frames' samples on one grid from ``start_ns``; and the stretches without any (s)."""
    channels = frames[0].samples.shape[1]
    data = np.zeros((n_samples, channels))
    covered = np.zeros(n_samples, dtype=bool)
    for f in frames:
        first = round((f.t0_ns - start_ns) * rate_hz / NS_PER_S)
        stop = min(n_samples, first + len(f.samples))
        if stop <= first or first < 0 or f.samples.shape[1] != channels:
            continue  # outside the file, or a channel count that changed: never mixed in
        data[first:stop] = np.nan_to_num(f.samples[: stop - first], nan=0.0, posinf=0.0, neginf=0.0)
        covered[first:stop] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([1], covered.astype(np.int8), [1]))))
    gaps = [
        (a / rate_hz, (b - a) / rate_hz)
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
    ]
    return data, gaps


def _rate(recording: str | Path, device: str, sensor: str, frames: list[Frame]) -> int:
    rates = {f.sample_rate_hz for f in frames}
    rate = frames[0].sample_rate_hz
    if len(rates) > 1 or rate != round(rate) or rate <= 0:
        shown = ", ".join(f"{r:g}" for r in sorted(rates))
        raise StoreError(
            f"{recording}: stream {device}/{sensor} runs at {shown} Hz;"
            " EDF needs one whole-Hz rate per signal",
            "export the part of the recording at one rate",
        )
    return round(rate)


def _end_ns(frame: Frame) -> int:
    return frame.t0_ns + round(len(frame.samples) * NS_PER_S / frame.sample_rate_hz)


def _bound(values: npt.NDArray[np.float64]) -> float:
    """The channel's largest magnitude, rounded up to fit EDF's 8-character field (never 0)."""
    peak = float(np.max(np.abs(values))) if len(values) else 0.0
    peak = max(peak, 1e-3)
    digits = max(0, EDF_FIELD_CHARS - 2 - len(str(int(peak))))  # sign and point take 2 characters
    scale = 10.0**digits
    return math.ceil(peak * scale) / scale


def _short(device: str) -> str:
    """A device id short enough for a label: the last 5 characters of an address."""
    return device if len(device) <= 8 else device[-5:]
