"""A reference wearable that reboots, through the real collector on the real bumble stack.

A hub and one emulated wearable (``emulators.reference``) run as separate processes;
the collector runs here through bleak's public API with the bumble backend. After a second
of streaming the wearable reboots (``{"fault": "reboot"}``): the link drops, its counters
and sequence numbers start again at 0, and it draws a new boot identifier (docs/protocol.md
§4). Two cases:

- it is found again at once: its counter is a few thousand samples behind the old one, far
  within the window where a counter behind would read as a repeat (2**21 samples);
- it stays out of reach for 4 s first: its counter is then past the old one, which the
  counters alone would read as seconds of lost samples.

Either way every sample it notified is received, none is dropped as a duplicate and no gap
is written. The test waits on what it expects (records and frames in the sink), never on time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.process import Emulated, start_emulated
from tests.collector_sink import Sink, collecting, one_wearable_config, order, pause

STREAMS = (("EMG", "emg"), ("IMU", "acc"))  # the emulator's wire stream, the frames counted for it


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[Emulated]:
    started = start_emulated(1, tmp_path)
    yield started
    started.stop()


@pytest.mark.parametrize("away_s", [0.0, 4.0], ids=["found-at-once", "counter-past-the-old-one"])
async def test_a_reboot_within_the_duplicate_window_keeps_every_packet_after_it(
    emulated: Emulated, away_s: float
) -> None:
    sink = Sink()
    async with collecting(one_wearable_config(emulated), sink):
        await sink.until_samples(1000, "emg")  # a second of EMG before the reboot
        before = sink.samples("emg")
        await order(emulated.wearables[0], {"fault": "reboot", "away_s": away_s})
        await sink.until(lambda: sink.connects() >= 2, "the reconnect after the reboot")
        await sink.until_samples(before + 2000, "emg")  # two seconds of EMG after it
        truth = await pause(emulated, 0)  # stops sending, writes the truth
        for stream, sensor in STREAMS:
            await sink.until_samples(truth["streams"][stream]["notified_samples"], sensor)

    assert truth["truth"]["boots"] == 2
    for stream, sensor in STREAMS:
        assert sink.samples(sensor) == truth["streams"][stream]["notified_samples"], sensor
    assert not sink.records("ble_gap")
    (session,) = sink.records("ble_session")
    assert session.fields["duplicates"] == 0
    assert session.fields["reboots"] == 1
