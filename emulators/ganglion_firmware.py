"""The OpenBCI Ganglion's firmware (2.x) sample loop, transcribed: 4-channel samples in, packets out.

From OpenBCI_Ganglion_Library.cpp ([FW] ``processData``, ``buildRawPacket``,
``sendRawPacket``, ``compressData18/19``, ``sendCompressedPacket18/19``), with the
firmware's byte masks and shifts, not from :mod:`devices.ganglion.decoder`: the decoder tests
check one implementation of the spec against another. See :mod:`devices.ganglion.protocol`
for the sources.
"""

from __future__ import annotations

from devices.ganglion.protocol import CHANNELS

SAMPLE_COUNTER_ROLLOVER = 201  # [FW] processData: if (sampleCounter >= 201) sampleCounter = 0
RAW_PADDING = bytes(ord("A") + c for c in range(7))  # [FW] sendRawPacket: 'A'..'G'


class GanglionFirmware:
    """The firmware's per-sample loop, transcribed: samples in, 20-byte packets out.

    Parameters
    ----------
    use_accel : bool
        18-bit packets carrying an accelerometer byte, instead of the default 19-bit ones.
    """

    def __init__(self, use_accel: bool = False) -> None:
        self.use_accel = use_accel
        self.axis_data = [0, 0, 0]  # int8 accelerometer axes [FW updateAccelerometerData]
        self.sample_counter = 0xFF  # [FW startRunning]
        self.ring_buffer_level = 0
        self.ring = bytearray(20)
        self.last_channel_data = [0] * CHANNELS
        self.delta_overflows = 0  # deltas that do not fit their field (the board wraps them)

    def start(self) -> None:
        """[FW startRunning]: the next sample goes out raw."""
        self.sample_counter = 0xFF

    def process(self, channel_data: list[int]) -> bytes | None:
        """[FW processData] for one 4-channel sample (int24 counts); the packet sent, if any."""
        if self.sample_counter >= SAMPLE_COUNTER_ROLLOVER:
            self.sample_counter = 0
        packet: bytes | None
        if self.sample_counter == 0:
            packet = self._raw_packet(channel_data)
        elif self.use_accel:
            packet = self._compress(channel_data, 18)
        else:
            packet = self._compress(channel_data, 19)
        self.sample_counter = (self.sample_counter + 1) & 0xFF  # a byte in the firmware
        return packet

    def _raw_packet(self, channel_data: list[int]) -> bytes:
        # buildRawPacket + sendRawPacket
        self.ring_buffer_level = 0
        body = bytearray()
        for i in range(CHANNELS):
            for shift in (16, 8, 0):
                body.append((channel_data[i] >> shift) & 0xFF)
            self.last_channel_data[i] = channel_data[i]
        packet = bytes([self.ring_buffer_level]) + bytes(body) + RAW_PADDING
        self.ring_buffer_level += 1
        return packet

    def _compress(self, channel_data: list[int], bits: int) -> bytes | None:
        deltas = []
        for i in range(CHANNELS):
            delta = self.last_channel_data[i] - channel_data[i]  # subtract new from old
            self.last_channel_data[i] = channel_data[i]
            if not -(1 << bits) <= delta < 1 << bits:  # beyond what survives the sign-in-bit-0 packing
                self.delta_overflows += 1
            delta &= 0xFFFFFFFF  # a 32-bit int on the board
            sign = (delta >> 31) & 1
            deltas.append((delta & ~1) | sign)  # bitWrite(deltas[i], 0, bitRead(deltas[i], 31))
        odd = self.sample_counter % 2 == 1
        if bits == 19:
            _pack19(self.ring, deltas, odd)
        else:
            _pack18(self.ring, deltas, odd)
        if odd:
            return None  # packed odd samples first; sent with the even one
        if bits == 19:
            packet = bytes([self.ring_buffer_level + 100]) + bytes(self.ring[:19])
        else:
            packet = bytes([self.ring_buffer_level]) + bytes(self.ring[:18]) + bytes([self._aux_byte()])
        self.ring_buffer_level += 1
        return packet

    def _aux_byte(self) -> int:
        # [FW sendCompressedPacket18]: x, y, z on ring levels ending in 1, 2, 3
        axis = self.ring_buffer_level % 10 - 1
        return self.axis_data[axis] & 0xFF if self.use_accel and 0 <= axis < 3 else 0


def _pack19(r: bytearray, d: list[int], odd: bool) -> None:
    """[FW compressData19]: the firmware's masks and shifts, byte by byte."""
    if odd:
        r[0] = (d[0] & 0x0007F800) >> 11
        r[1] = (d[0] & 0x000007F8) >> 3
        r[2] = ((d[0] & 0x00000007) << 5) | ((d[1] & 0x0007C000) >> 14)
        r[3] = (d[1] & 0x00003FC0) >> 6
        r[4] = ((d[1] & 0x0000003F) << 2) | ((d[2] & 0x00060000) >> 17)
        r[5] = (d[2] & 0x0001FE00) >> 9
        r[6] = (d[2] & 0x000001FE) >> 1
        r[7] = ((d[2] & 0x00000001) << 7) | ((d[3] & 0x0007F000) >> 12)
        r[8] = (d[3] & 0x00000FF0) >> 4
        r[9] = (d[3] & 0x0000000F) << 4
    else:
        r[9] |= (d[0] & 0x00078000) >> 15
        r[10] = (d[0] & 0x00007F80) >> 7
        r[11] = ((d[0] & 0x0000007F) << 1) | ((d[1] & 0x00040000) >> 18)
        r[12] = (d[1] & 0x0003FC00) >> 10
        r[13] = (d[1] & 0x000003FC) >> 2
        r[14] = ((d[1] & 0x00000003) << 6) | ((d[2] & 0x0007E000) >> 13)
        r[15] = (d[2] & 0x00001FE0) >> 5
        r[16] = ((d[2] & 0x0000001F) << 3) | ((d[3] & 0x00070000) >> 16)
        r[17] = (d[3] & 0x0000FF00) >> 8
        r[18] = d[3] & 0x000000FF


def _pack18(r: bytearray, d: list[int], odd: bool) -> None:
    """[FW compressData18]: the firmware's masks and shifts, byte by byte."""
    base = 0 if odd else 9
    r[base + 0] = (d[0] & 0x0003FC00) >> 10
    r[base + 1] = (d[0] & 0x000003FC) >> 2
    r[base + 2] = ((d[0] & 0x00000003) << 6) | ((d[1] & 0x0003F000) >> 12)
    r[base + 3] = (d[1] & 0x00000FF0) >> 4
    r[base + 4] = ((d[1] & 0x0000000F) << 4) | ((d[2] & 0x0003C000) >> 14)
    r[base + 5] = (d[2] & 0x00003FC0) >> 6
    r[base + 6] = ((d[2] & 0x0000003F) << 2) | ((d[3] & 0x00030000) >> 16)
    r[base + 7] = (d[3] & 0x0000FF00) >> 8
    r[base + 8] = d[3] & 0x000000FF
