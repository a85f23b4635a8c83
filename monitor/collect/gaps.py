"""Sequence tracking per stream: unwrap the 16-bit sequence and 32-bit sample counter, find gaps.

A jump in the packet sequence number says packets were lost; the sample counter says
exactly how many samples (docs/protocol.md §2.2), whatever the packet size was.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.reference.profile import COUNTER_MODULUS, SEQ_MODULUS

# A counter more than half its range behind what we expect cannot be a late packet:
# the device rebooted and restarted its counter.
REBOOT_THRESHOLD_SAMPLES = COUNTER_MODULUS // 2


@dataclass(frozen=True, slots=True)
class Step:
    """What one packet means for its stream.

    Attributes
    ----------
    counter : int
        Unwrapped counter of the packet's first sample.
    seq : int
        Unwrapped sequence number of the packet.
    gap_samples : int
        Samples lost just before this packet (0 when none).
    gap_packets : int
        Packets lost just before it, from the sequence numbers.
    duplicate : bool
        The packet repeats samples already received; drop it.
    reboot : bool
        The device restarted its counter; the clock fit must restart too.
    """

    counter: int
    seq: int
    gap_samples: int = 0
    gap_packets: int = 0
    duplicate: bool = False
    reboot: bool = False


class SequenceTracker:
    """Unwraps one stream's sequence numbers and counters and reports gaps."""

    def __init__(self) -> None:
        self.expected_counter: int | None = None  # unwrapped counter after the last packet
        self.expected_seq = 0
        self.received_samples = 0
        self.gap_samples = 0
        self.first_counter: int | None = None

    def step(self, seq16: int, counter32: int, n_samples: int) -> Step:
        """Account for a packet with wire ``seq16``, ``counter32`` and ``n_samples``."""
        if self.expected_counter is None:
            return self._accept(Step(counter32, seq16), n_samples, first=True)
        ahead = (counter32 - self.expected_counter) % COUNTER_MODULUS
        counter = self.expected_counter + ahead
        seq = self.expected_seq + (seq16 - self.expected_seq) % SEQ_MODULUS
        if ahead >= REBOOT_THRESHOLD_SAMPLES:
            behind = COUNTER_MODULUS - ahead
            if behind < REBOOT_THRESHOLD_SAMPLES // 1024:  # a repeat of recent samples
                return Step(self.expected_counter - behind, seq, duplicate=True)
            base = self.expected_counter + ahead  # keep time monotonic across the reboot
            self.expected_counter = None
            step = self._accept(Step(base, seq16, reboot=True), n_samples, first=True)
            return step
        step = Step(counter, seq, gap_samples=ahead, gap_packets=seq - self.expected_seq)
        return self._accept(step, n_samples, first=False)

    def _accept(self, step: Step, n_samples: int, *, first: bool) -> Step:
        if first:
            self.first_counter = step.counter
        self.expected_counter = step.counter + n_samples
        self.expected_seq = step.seq + 1
        self.received_samples += n_samples
        self.gap_samples += step.gap_samples
        return step
