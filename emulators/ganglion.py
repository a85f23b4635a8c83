"""Emulated OpenBCI Ganglion (firmware 2.x): a bumble GATT server streaming synthetic EMG.

Built from the published format, not from :mod:`devices.ganglion.decoder`: :class:`GanglionFirmware`
(:mod:`emulators.ganglion_firmware`) transcribes the firmware's sample loop ([FW]
``processData``, ``buildRawPacket``, ``sendRawPacket``, ``compressData18/19``,
``sendCompressedPacket18/19`` in OpenBCI_Ganglion_Library.cpp; the byte masks are the
firmware's), so the decoder tests check one implementation of the spec against another.
See :mod:`devices.ganglion.protocol` for the sources.

Like the board, it streams only between ``b`` and ``s`` on the send characteristic, opens
every stream with a raw packet, sends 100 or 101 notifications a second at 200 Hz, and
stops streaming when the link drops. Device time runs ``--drift-ppm`` fast; each packet
leaves at its last sample's true time plus a random delay of 0..2·``--jitter-ms``.

Faults come from the command line (schedules) or as JSON lines on stdin, those of
:mod:`emulators.base` but ``battery`` (the board reports none): a ``short`` packet is cut
to 10 bytes, a ``corrupt`` one gets packet id 0xFF.

The stats file holds the ground truth: per streaming run (one per ``b``), the true UTC of
its sample 0, and the first and end sample counters of the valid packets notified (a
counter counts samples from the run's sample 0), plus fault counters.

Run: ``python -m emulators.ganglion --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --name Ganglion-1a2b --stats /tmp/s.json``. It prints ``ready`` once
advertising, and writes the stats file on SIGTERM before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from scipy.signal import lfilter

from devices.ganglion.protocol import (
    CHANNELS,
    DISABLE_ACCELEROMETER,
    DISCONNECT_UUID,
    ENABLE_ACCELEROMETER,
    MULTI_PACKET_ID,
    MULTI_PACKET_STOP_ID,
    MV_PER_COUNT,
    RECEIVE_UUID,
    SAMPLE_RATE_HZ,
    SEND_UUID,
    SERVICE_UUID_16,
    START_IMPEDANCE,
    START_STREAM,
    STOP_IMPEDANCE,
    STOP_STREAM,
)
from emulators.base import EmulatedWearable, FaultCounts, NotifiedCounts, Outgoing, sleep_until_ns
from emulators.ganglion_firmware import GanglionFirmware
from emulators.harness import add_common_arguments, serve
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S

SIGNAL_LOOP_S = 60.0  # synthetic physiology is generated once and replayed in a loop
SYNTH_RATE_HZ = 1000.0  # synthetic EMG rate before the modelled ADC decimation
SINC_ORDER = 3  # MCP3912 decimation filter: sinc³ (MCP3912 data sheet, §5.5 "digital filter")
INT24_MIN, INT24_MAX = -(1 << 23), (1 << 23) - 1
MESSAGE_CHARS_PER_PACKET = 19  # [FW] serialBuffer rows: id byte + 19 characters
IMPEDANCE_PERIOD_S = 0.2  # pace of impedance packets while testing (the board's is similar)
SHORT_PACKET_BYTES = 10  # a "short" fault's packet: half of the 20 bytes
BAD_PACKET_ID = b"\xff"  # a "corrupt" fault's first byte: no packet type has it
STREAM = "emg"  # the board's one stream, for the packet faults


def synthetic_counts(seed: int, loop_s: float = SIGNAL_LOOP_S) -> npt.NDArray[np.int64]:
    """Synthetic 4-channel EMG with spasms at 200 Hz, as int24 ADC counts, shape (n, 4).

    The board's ADC (MCP3912) decimates with a sinc³ filter, so its 200 Hz samples hold
    little above about 50 Hz. Modelled here as a three-stage CIC (three 5-tap moving
    averages, nulls at multiples of 200 Hz) from 1 kHz synthetic EMG, then every fifth sample.
    """
    decimation = round(SYNTH_RATE_HZ / SAMPLE_RATE_HZ)
    scenario = EmgScenario(sample_rate_hz=SYNTH_RATE_HZ, channels=CHANNELS, duration_s=loop_s, seed=seed)
    emg_mv = generate_emg(scenario).emg_mv
    boxcar = np.full(decimation, 1.0 / decimation)
    for _ in range(SINC_ORDER):
        emg_mv = lfilter(boxcar, [1.0], emg_mv, axis=0)
    decimated_mv = emg_mv[decimation - 1 :: decimation]
    return np.clip(np.round(decimated_mv / MV_PER_COUNT), INT24_MIN, INT24_MAX).astype(np.int64)


@dataclass
class RunStats(NotifiedCounts):
    """Ground truth of one streaming run (``b`` … ``s`` or a drop), valid packets only."""

    t0_ns: int = 0  # true UTC of the run's sample 0


@dataclass
class Stats(FaultCounts):
    messages_sent: int = 0
    impedance_packets_sent: int = 0
    runs: list[RunStats] = field(default_factory=list)

    @property
    def sent_samples(self) -> int:
        """Samples from each run's first to its last valid notified packet, lost ones included."""
        return sum(
            r.end_counter - r.first_counter
            for r in self.runs
            if r.first_counter is not None and r.end_counter is not None
        )


class GanglionEmulator(EmulatedWearable):
    """One emulated Ganglion on a bumble host; see the module docstring for faults."""

    ADVERTISED_SERVICES = (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        UUID.from_16_bits(SERVICE_UUID_16).to_bytes(),
    )

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        super().__init__(device, args)
        self.counts = synthetic_counts(args.seed)
        self.firmware = GanglionFirmware()
        self.running = False
        self.impedance_testing = False
        self.stats = Stats()
        self._stream_task: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.receive: Characteristic[bytes] = Characteristic(
            RECEIVE_UUID,
            Characteristic.Properties.NOTIFY | Characteristic.Properties.READ,
            Characteristic.READABLE,
            b"",
        )
        self._track_subscriptions(self.receive)
        write = Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        send: Characteristic[bytes] = Characteristic(
            SEND_UUID, write, Characteristic.WRITEABLE, CharacteristicValue(write=self._on_send)
        )
        disconnect: Characteristic[bytes] = Characteristic(
            DISCONNECT_UUID,
            write,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=lambda _connection, _value: self._background(self.drop())),
        )
        device.add_service(Service(UUID.from_16_bits(SERVICE_UUID_16), [self.receive, send, disconnect]))

    # -- the base's hooks ------------------------------------------------------------------

    def _loops(self) -> list[Coroutine[Any, Any, None]]:
        return [self._notify_in_order(self._outbox, lambda _out: self._can_send())]

    def ground_truth(self) -> tuple[dict[str, Any], dict[str, Any]]:
        stats = asdict(self.stats) | {"sent_samples": self.stats.sent_samples}
        truth = {"rate_hz": SAMPLE_RATE_HZ, "delta_overflows": self.firmware.delta_overflows}
        return truth, {"stats": stats}

    def _cut(self, payload: bytes) -> bytes:
        return payload[:SHORT_PACKET_BYTES]

    def _corrupt(self, payload: bytes) -> bytes:
        return BAD_PACKET_ID + payload[1:]

    def _link_lost(self) -> None:
        # [FW SimbleeBLE_onDisconnect]: streaming and impedance testing stop.
        self.impedance_testing = False
        self._stop_streaming()

    def _notified(self, out: Outgoing) -> None:
        if out.notified is None and out.valid:  # no samples: a message or an impedance value
            if out.payload[0] in (MULTI_PACKET_ID, MULTI_PACKET_STOP_ID):
                self.stats.messages_sent += 1
            else:
                self.stats.impedance_packets_sent += 1
            return
        super()._notified(out)

    # -- streaming -------------------------------------------------------------------------

    def _start_streaming(self) -> None:
        if self.running:
            return
        self.running = True
        self.firmware.start()
        run = RunStats(t0_ns=time.time_ns())
        self.stats.runs.append(run)
        self._stream_task = asyncio.create_task(self._produce(run))

    def _stop_streaming(self) -> None:
        self.running = False
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    def _true_time_ns(self, run: RunStats, counter: int) -> int:
        """True UTC of sample ``counter`` of ``run``: the board's crystal runs ``drift_ppm`` fast."""
        return run.t0_ns + round(counter * NS_PER_S / (SAMPLE_RATE_HZ * (1 + self.drift_ppm * 1e-6)))

    async def _produce(self, run: RunStats) -> None:
        """Sample at 200 Hz in true time; queue each packet the firmware sends."""
        counter = 0
        first_of_packet = 0
        loop_samples = self.counts.shape[0]
        offset = self.rng.randrange(loop_samples)  # each run starts somewhere else in the signal
        while True:
            sample_ns = self._true_time_ns(run, counter)
            await sleep_until_ns(sample_ns)
            sample = [int(v) for v in self.counts[(offset + counter) % loop_samples]]
            packet = self.firmware.process(sample)
            counter += 1
            if packet is None:
                continue
            out = Outgoing(sample_ns, self.receive, packet, first_of_packet, counter - first_of_packet, run)
            self._produced(self._outbox, out, STREAM, self.stats, self._can_send())
            first_of_packet = counter

    def _can_send(self) -> bool:
        return self._link_takes(self.receive)

    def _send_message(self, text: str) -> None:
        """[FW prepToSendBytes]: ASCII in 19-character parts, id 206, the last one 207."""
        parts = [
            text[i : i + MESSAGE_CHARS_PER_PACKET] for i in range(0, len(text), MESSAGE_CHARS_PER_PACKET)
        ]
        now_ns = time.time_ns()
        for index, part in enumerate(parts):
            packet_id = MULTI_PACKET_STOP_ID if index == len(parts) - 1 else MULTI_PACKET_ID
            self._outbox.put_nowait(Outgoing(now_ns, self.receive, bytes([packet_id]) + part.encode("ascii")))

    async def _impedance_loop(self) -> None:
        """[FW testImpedance]: channels 1-4 then the reference, ASCII kΩ then 'Z', over and over."""
        channel = 1
        while self.impedance_testing:
            await asyncio.sleep(IMPEDANCE_PERIOD_S)
            value_kohm = 5 + self.rng.randrange(20)
            payload = bytes([200 + channel]) + f"{value_kohm}Z".encode("ascii")
            if self._can_send():
                self._outbox.put_nowait(Outgoing(time.time_ns(), self.receive, payload))
            channel = channel % 5 + 1

    # -- GATT handlers ---------------------------------------------------------------------

    def _on_send(self, _connection: Connection, value: bytes) -> None:
        """[FW SimbleeBLE_onReceive, parseChar]: only the first byte of a write is a command."""
        if not value:
            return
        token = value[:1]
        if token == START_STREAM:
            if self.impedance_testing:
                self.impedance_testing = False
            self._start_streaming()
        elif token == STOP_STREAM:
            self._stop_streaming()
            self._send_message("stop running\n")
        elif token == START_IMPEDANCE:
            self._stop_streaming()
            self.impedance_testing = True
            self._background(self._impedance_loop())
        elif token == STOP_IMPEDANCE:
            self.impedance_testing = False
        elif token == ENABLE_ACCELEROMETER:
            self.firmware.use_accel = True
        elif token == DISABLE_ACCELEROMETER:
            self.firmware.use_accel = False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Emulated OpenBCI Ganglion, firmware 2.x (bumble GATT server)"
    )
    add_common_arguments(parser, "Ganglion-1a2b")  # [FW]: Ganglion-XXXX
    args = parser.parse_args(argv)
    serve(args, args.name, GanglionEmulator)


if __name__ == "__main__":
    main()
