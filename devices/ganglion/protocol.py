"""Wire protocol of the OpenBCI Ganglion (firmware 2.x, Simblee radio): GATT layout and constants, bytes only.

Sources (each constant below names the one it comes from):

- [DOC] OpenBCI Documentation, "Ganglion Data Format"
  (github.com/OpenBCI/Documentation, ``docs/03Ganglion/08-Ganglion_Data_Format.md``):
  service and characteristics, the ``b``/``s`` commands, the 20-byte packets, the packet id
  table, the 18- and 19-bit delta layouts with the sign kept in bit 0, the worked examples,
  and the scale factor.
- [FW] OpenBCI_Ganglion_Library (github.com/OpenBCI/OpenBCI_Ganglion_Library,
  ``OpenBCI_Ganglion_Library.cpp`` and ``.h``): ``processData`` sends a raw packet whenever
  the byte ``sampleCounter`` rolls over (it restarts at 0 after 200, and ``startRunning``
  sets it to 0xFF so streaming always opens with a raw packet), ``compressData19`` and
  ``sendCompressedPacket19`` (delta = previous − new, packet id = ring level + 100), the
  advertised name ``Ganglion-`` plus four hex digits of the chip id, and the disconnect
  handler that stops streaming.
- [NODE] OpenBCI_NodeJS_Ganglion (github.com/openbci-archive/OpenBCI_NodeJS_Ganglion,
  ``test/openBCIGanglionSample-test.js``): the delta unit tests the [DOC] examples repeat.
- [BF] brainflow (github.com/brainflow-dev/brainflow,
  ``src/board_controller/openbci/ganglion_native_v2.cpp`` and ``inc/ganglion_native.h``):
  a second host implementation (new sample = previous − delta; the scale in µV/count).

Firmware 3.x (nRF52 Ganglion) changed the packets: ids 0–99 and 100–199 then carry the 18
or 19 most significant bits of absolute samples, not deltas ([BF] ``ganglion_native_v3.cpp``).
This profile reads firmware 2.x only (see README.md).
"""

from __future__ import annotations

from enum import Enum

# -- GATT [DOC] "Standard Bluetooth 4.n BLE Setup" -----------------------------------------------
SERVICE_UUID_16 = 0xFE84  # Simblee's 16-bit service
SERVICE_UUID = f"0000{SERVICE_UUID_16:04x}-0000-1000-8000-00805f9b34fb"  # as bleak spells it
RECEIVE_UUID = "2d30c082-f39f-4ce6-923f-3484ea480596"  # notify: 20-byte packets
SEND_UUID = "2d30c083-f39f-4ce6-923f-3484ea480596"  # write: one ASCII command byte
DISCONNECT_UUID = "2d30c084-f39f-4ce6-923f-3484ea480596"  # write: the Simblee drops the link

# -- Advertisement [FW] advdata: complete local name "Ganglion-" + 4 hex digits -------------------
NAME_PREFIX = "Ganglion"
SIMBLEE_NAME_PREFIX = "Simblee"  # some boards advertise the radio's default name instead [BF]

# -- Commands [DOC] "Initiating Binary Transfer", [FW] parseChar ---------------------------------
START_STREAM = b"b"
STOP_STREAM = b"s"
START_IMPEDANCE = b"z"
STOP_IMPEDANCE = b"Z"
ENABLE_ACCELEROMETER = b"n"  # switches the firmware to 18-bit packets carrying one axis byte
DISABLE_ACCELEROMETER = b"N"

# -- Packets [DOC] "Binary Format", "Packet ID Cheat Sheet" ---------------------------------------
PACKET_SIZE_BYTES = 20  # every data packet: id byte + 19 bytes
CHANNELS = 4
SAMPLE_RATE_HZ = 200.0  # MCP3912 at SAMPLE_RATE_200, the firmware default [FW]
RAW_ID = 0x00  # one uncompressed sample: 4 × int24 big-endian, then 7 padding bytes 'A'..'G' [FW]
DELTA18_IDS = range(1, 101)  # 18-bit deltas, 2 samples; byte 19 is accelerometer/aux
DELTA19_IDS = range(101, 201)  # 19-bit deltas, 2 samples
DELTA19_ID_OFFSET = 100  # 19-bit id = ring level + 100 [FW sendCompressedPacket19]
IMPEDANCE_IDS = range(201, 206)  # channels 1-4, then the reference: ASCII digits then 'Z'
MULTI_PACKET_ID = 206  # part of an ASCII message
MULTI_PACKET_STOP_ID = 207  # last part of an ASCII message
IMPEDANCE_TERMINATOR = ord("Z")
RAW_SAMPLE_BYTES = 3  # int24, MSB first, two's complement [DOC]

# One compression cycle [FW processData]: sampleCounter runs 0..200. Sample 0 goes out alone
# in a raw packet (ring level 0); samples 2L-1 and 2L go out in the delta packet of ring
# level L = 1..100. So a cycle is 101 packets holding 201 samples, 1.005 s at 200 Hz.
RING_LEVELS = 101  # packet positions in a cycle: 0 (raw) and 1..100 (deltas)
SAMPLES_PER_CYCLE = 201
SAMPLES_PER_DELTA_PACKET = 2

# -- Scale [DOC] "Interpreting the EEG Data" -------------------------------------------------------
# The page prints "1.2 Volts * 8388607.0 * 1.5 * 51.0"; the host implementations divide
# ([BF] eeg_scale = 1.2e6 / (8388607 * 1.5 * 51) µV/count): Vref 1.2 V over 2^23 - 1 counts,
# the MCP3912's 1.5 factor and the front end's gain of 51 (MCP3912 data sheet, Table 7).
VREF_V = 1.2
ADC_FULL_SCALE_COUNTS = 8_388_607  # 2^23 - 1
MCP3912_FACTOR = 1.5
FRONT_END_GAIN = 51.0
MV_PER_COUNT = VREF_V * 1e3 / (ADC_FULL_SCALE_COUNTS * MCP3912_FACTOR * FRONT_END_GAIN)  # ≈ 1.87e-6 mV
INPUT_RANGE_MV = ADC_FULL_SCALE_COUNTS * MV_PER_COUNT  # ≈ ±15.7 mV


class DeltaBits(Enum):
    """Width of one delta field: 18 bits (accelerometer on) or 19 bits (the default)."""

    B18 = 18
    B19 = 19

    @property
    def max_step_counts(self) -> int:
        """Largest sample-to-sample change, either way, that survives the packing, counts.

        The sign lives in bit 0, so a field holds even positive deltas up to 2^bits - 2 and
        odd negative ones down to -(2^bits - 1). The firmware forces bit 0 to the sign
        first, so deltas (previous - new) from -2^bits to 2^bits - 1 arrive within one
        count; anything beyond wraps.
        """
        return (1 << self.value) - 1


def delta_ring_level(packet_id: int) -> int:
    """Ring level 1..100 of a delta packet id (1-100 or 101-200)."""
    return packet_id - DELTA19_ID_OFFSET if packet_id in DELTA19_IDS else packet_id


def cycle_position_samples(ring_level: int) -> int:
    """Index within its 201-sample cycle of the first sample of the packet at ``ring_level``."""
    return 0 if ring_level == 0 else 2 * ring_level - 1
