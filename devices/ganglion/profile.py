"""The Ganglion as a :class:`devices.base.DeviceProfile`: handshake and per-connection decoder.

The wire carries no sample counter and no clock, only the packet id: a position 0..100 in
a compression cycle of 201 samples (:mod:`devices.ganglion.protocol`). Packets of a cycle
hold 1 (raw) or 2 (delta) samples, so a packet index times a fixed size would be wrong;
the decoder instead unwraps cycles itself and gives every packet an exact device sample
counter (and a packet sequence number), counted from the connection's first packet. The
session then finds gaps and fits the clock on those counters at the nominal 200 Hz.

Limits that follow from the format, stated rather than hidden:

- **Aliasing.** Cycles are only told apart by order: a loss of a whole cycle or more
  (≥ 101 packets in a row, ≥ 1.005 s) looks like a shorter one, and the session records a
  gap 201·k samples too short. Link drops are not affected: the firmware stops streaming
  when the link drops, and a new connection starts a new count.
- **Restarts.** The session's tracker (``monitor.collect.gaps``) sees a device restart only
  as a counter jump of at least half the counter range backwards (a smaller one reads as a
  repeat, a forward one as a gap). The board restarts at every connection, so the profile
  starts each connection's count three quarters of the range past where the previous
  connection of the same board ended (:data:`RESTART_JUMP`): the session then restarts its
  clock fit and records no gap for the time the board was not sampling. Samples the board
  notified just before a link loss that never arrived cannot be seen as lost.
- **Delta chains.** A delta packet needs the sample before it. After any lost or malformed
  packet the chain is broken until the next raw packet (at most 1.005 s later). By default
  (``after_loss="drop"``) the packets in between are not emitted, so the session records
  them as part of the gap: every emitted sample is right, to the sign-bit rounding below.
  ``after_loss="offset"`` emits them anyway; they are then off by an unknown constant per
  channel (the sum of the lost deltas), which a high-pass EMG chain removes, and the values
  step back at the raw packet.
- **Delta range.** A step larger than 2^19 - 1 counts (≈ 0.98 mV in 5 ms; 2^18 - 1 in
  18-bit mode) wraps in the firmware; the decoder cannot detect it, the next raw packet
  repairs it. Bit 0 carries the sign, so odd positive and even negative steps lose one
  count; the error grows by at most one count a sample (≈ 0.4 µV over a cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from devices.base import Channel, GattClient, Packet, Payload
from devices.ganglion import decoder
from devices.ganglion.protocol import (
    MV_PER_COUNT,
    NAME_PREFIX,
    RECEIVE_UUID,
    RING_LEVELS,
    SAMPLE_RATE_HZ,
    SAMPLES_PER_CYCLE,
    SEND_UUID,
    SERVICE_UUID,
    SIMBLEE_NAME_PREFIX,
    START_STREAM,
    STOP_STREAM,
    cycle_position_samples,
)
from monitor.types import SensorKind

AfterLoss = Literal["drop", "offset"]
EMG_CHANNELS = (Channel("emg", SensorKind.EMG, slice(None)),)
# The decoder unwraps cycles itself, so its counters and sequence numbers never wrap in practice.
UNWRAPPED_MODULUS = 1 << 32
# Offset of a new connection's count from the end of the previous one: more than half the
# range behind (a restart, not a gap) and more than 1/2048 of it (not a repeat), see gaps.py.
RESTART_JUMP = 3 << 30


class UnknownCharacteristicError(decoder.GanglionDecodeError):
    """A notification from a characteristic that carries no Ganglion samples."""


class GanglionStreamDecoder:
    """Per-connection Ganglion decoder: unwraps cycles, keeps the previous sample.

    Parameters
    ----------
    after_loss : {"drop", "offset"}
        What to do with delta packets between a lost packet and the next raw packet (see
        the module docstring).
    counter_base, seq_base : int
        Counter and sequence number of the connection's first packet position.

    Attributes
    ----------
    unanchored_packets : int
        Delta packets received with no exact previous sample (dropped or emitted with an offset).
    impedance_kohm : dict of int to int
        Last impedance reading per channel (5 is the reference), kΩ.
    messages : list of str
        ASCII messages the board sent (command replies), joined across packets.
    end_counter, end_seq : int
        Counter and sequence number just after the last emitted packet.
    """

    def __init__(self, after_loss: AfterLoss = "drop", counter_base: int = 0, seq_base: int = 0) -> None:
        self.after_loss: AfterLoss = after_loss
        self.counter_base = counter_base
        self.seq_base = seq_base
        self.end_counter = counter_base
        self.end_seq = seq_base
        self.unanchored_packets = 0
        self.impedance_kohm: dict[int, int] = {}
        self.messages: list[str] = []
        self._message_parts: list[str] = []
        self._cycle = -1  # unwrapped cycle of the last data packet
        self._level: int | None = None  # its ring level 0..100
        self._previous: decoder.IntArray | None = None  # last sample, counts, shape (4,)
        self._exact = False  # _previous is the true previous sample

    def decode(self, uuid: str, payload: Payload) -> Sequence[Packet]:
        """Packets in one notification; raises a :class:`DecodeError` subclass on bad input."""
        if uuid.lower() != RECEIVE_UUID:
            raise UnknownCharacteristicError(f"no Ganglion samples on characteristic {uuid}")
        parsed = decoder.parse(payload)
        if isinstance(parsed, decoder.Impedance):
            self.impedance_kohm[parsed.channel] = parsed.impedance_kohm
            return ()
        if isinstance(parsed, decoder.Message):
            self._message_parts.append(parsed.text)
            if parsed.last:
                self.messages.append("".join(self._message_parts))
                self._message_parts.clear()
            return ()
        level = 0 if isinstance(parsed, decoder.RawSample) else parsed.ring_level
        contiguous = self._advance(level)
        if isinstance(parsed, decoder.RawSample):
            counts = parsed.counts
            self._exact = True
        else:
            if not (contiguous and self._exact):
                self.unanchored_packets += 1
                self._exact = False
                if self.after_loss == "drop" or self._previous is None:
                    return ()  # the next raw packet's counter shows these samples as a gap
            assert self._previous is not None
            counts = decoder.apply_deltas(self._previous, parsed.deltas)
        self._previous = counts[-1]
        counter = (self.counter_base + self._cycle * SAMPLES_PER_CYCLE + cycle_position_samples(level)) % (
            UNWRAPPED_MODULUS
        )
        seq = (self.seq_base + self._cycle * RING_LEVELS + level) % UNWRAPPED_MODULUS
        self.end_counter = (counter + counts.shape[0]) % UNWRAPPED_MODULUS
        self.end_seq = (seq + 1) % UNWRAPPED_MODULUS
        return (
            Packet(
                "emg",
                SAMPLE_RATE_HZ,
                counts.astype(np.float64) * MV_PER_COUNT,
                EMG_CHANNELS,
                seq=seq,
                seq_modulus=UNWRAPPED_MODULUS,
                counter=counter,
                counter_modulus=UNWRAPPED_MODULUS,
            ),
        )

    def _advance(self, level: int) -> bool:
        """Move to the packet at ``level``; True if it directly follows the previous one."""
        previous = self._level
        # Levels only grow within a cycle: one that does not starts the next cycle.
        if previous is None or level <= previous:
            self._cycle += 1
        self._level = level
        if previous is None:
            return False
        return level == previous + 1 or (level == 0 and previous == RING_LEVELS - 1)


class GanglionProfile:
    """OpenBCI Ganglion, firmware 2.x (README.md)."""

    name = "ganglion"
    service_uuid = SERVICE_UUID
    stream_uuids = (RECEIVE_UUID,)
    battery_uuid: str | None = None  # the Ganglion exposes no battery level

    def __init__(self, after_loss: AfterLoss = "drop") -> None:
        self.after_loss: AfterLoss = after_loss
        self._decoders: dict[str, GanglionStreamDecoder] = {}  # last connection's decoder per board

    def recognises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """``Ganglion-XXXX`` by name; a Simblee-named board only with the 0xFE84 service."""
        name = local_name or ""
        if name.startswith(NAME_PREFIX):
            return True
        return name.startswith(SIMBLEE_NAME_PREFIX) and SERVICE_UUID in (u.lower() for u in service_uuids)

    async def start(self, client: GattClient) -> GanglionStreamDecoder:
        """Send ``b``: the board opens every stream with a raw packet, so a fresh decoder fits.

        Its count starts :data:`RESTART_JUMP` past the end of the board's previous connection
        (see the module docstring), so the session reads the board's restart as one.
        """
        board = str(getattr(client, "address", ""))  # a BleakClient's; absent on test doubles
        previous = self._decoders.get(board)
        if previous is None:
            decoder = GanglionStreamDecoder(self.after_loss)
        else:
            decoder = GanglionStreamDecoder(
                self.after_loss,
                counter_base=(previous.end_counter + RESTART_JUMP) % UNWRAPPED_MODULUS,
                seq_base=(previous.end_seq + RESTART_JUMP) % UNWRAPPED_MODULUS,
            )
        await client.write_gatt_char(SEND_UUID, START_STREAM, response=True)
        self._decoders[board] = decoder
        return decoder

    async def stop(self, client: GattClient) -> None:
        await client.write_gatt_char(SEND_UUID, STOP_STREAM, response=True)


PROFILE = GanglionProfile()
