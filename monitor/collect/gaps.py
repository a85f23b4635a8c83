"""Sequence tracking per stream: unwrap sequence numbers and sample counters, find gaps.

A jump in the packet sequence number says packets were lost; a device sample counter says
exactly how many samples (docs/protocol.md §2.2), whatever the packet size was. Protocols
differ in what they carry (:class:`devices.base.Packet`):

- counter (and maybe seq): gaps are exact in samples (reference wearable, Polar PMD);
- seq only: packets hold a fixed number of samples, so lost samples = lost packets × size,
  exact while fewer than ``seq_modulus`` packets in a row are lost (Myo, Ganglion);
- neither: samples are counted as they arrive and a loss cannot be seen.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEQ_MODULUS = 1 << 16
DEFAULT_COUNTER_MODULUS = 1 << 32


@dataclass(frozen=True, slots=True)
class Step:
    """What one packet means for its stream.

    Attributes
    ----------
    counter : int
        Unwrapped counter of the packet's first sample.
    seq : int
        Unwrapped sequence number of the packet (the packet index when the protocol has none).
    gap_samples : int
        Samples lost just before this packet (0 when none).
    gap_packets : int or None
        Packets lost just before it, from the sequence numbers; None without them.
    duplicate : bool
        The packet repeats samples already received; drop it.
    reboot : bool
        The device restarted its counter; the clock fit must restart too.
    """

    counter: int
    seq: int
    gap_samples: int = 0
    gap_packets: int | None = 0
    duplicate: bool = False
    reboot: bool = False


class SequenceTracker:
    """Unwraps one stream's sequence numbers and counters and reports gaps.

    Parameters
    ----------
    seq_modulus, counter_modulus : int
        Where the wire sequence number and sample counter wrap.
    """

    def __init__(
        self, seq_modulus: int = DEFAULT_SEQ_MODULUS, counter_modulus: int = DEFAULT_COUNTER_MODULUS
    ) -> None:
        self.seq_modulus = seq_modulus
        self.counter_modulus = counter_modulus
        # A counter more than half its range behind what we expect cannot be a late packet:
        # the device rebooted and restarted its counter.
        self._reboot_threshold = counter_modulus // 2
        self.expected_counter: int | None = None  # unwrapped counter after the last packet
        self.expected_seq = 0
        self.received_samples = 0
        self.gap_samples = 0
        self.first_counter: int | None = None
        self.closed_span_samples = 0  # samples spanned by earlier connections' counts
        self._reconnected = False  # the next packet is the first of a new connection

    @property
    def span_samples(self) -> int:
        """Samples spanned by every count so far: received + gap samples."""
        if self.expected_counter is None or self.first_counter is None:
            return self.closed_span_samples
        return self.closed_span_samples + self.expected_counter - self.first_counter

    def restart(self) -> None:
        """A new count starts (a device that counts from zero at each connection); totals stay."""
        self.closed_span_samples = self.span_samples
        self.expected_counter = None
        self.first_counter = None
        self.expected_seq = 0

    def reconnect(self) -> None:
        """A new connection begins on a count that kept running (docs/protocol.md §2.2).

        Its first packet cannot repeat one already received (notifications die with their
        link), so a counter behind the expected one then is a reboot, however little the
        device had counted: one back on 0 after minutes of uptime is within the window
        where a counter behind would otherwise read as a repeat.
        """
        self._reconnected = True

    def step(self, seq: int | None, counter: int | None, n_samples: int) -> Step:
        """Account for a packet with wire ``seq`` and ``counter`` (None if absent) and ``n_samples``."""
        reconnected, self._reconnected = self._reconnected, False
        if counter is None:
            return self._step_without_counter(seq, n_samples)
        if self.expected_counter is None:
            return self._accept(Step(counter, seq or 0), n_samples, first=True)
        ahead = (counter - self.expected_counter) % self.counter_modulus
        unwrapped = self.expected_counter + ahead
        seq_unwrapped, gap_packets = self._unwrap_seq(seq)
        if ahead >= self._reboot_threshold:
            behind = self.counter_modulus - ahead
            if behind < self._reboot_threshold // 1024 and not reconnected:  # a repeat of recent samples
                return Step(self.expected_counter - behind, seq_unwrapped, duplicate=True)
            base = self.expected_counter + ahead  # keep time monotonic across the reboot
            self.expected_counter = None
            return self._accept(Step(base, seq or 0, reboot=True), n_samples, first=True)
        step = Step(unwrapped, seq_unwrapped, gap_samples=ahead, gap_packets=gap_packets)
        return self._accept(step, n_samples, first=False)

    def _unwrap_seq(self, seq: int | None) -> tuple[int, int | None]:
        if seq is None:
            return self.expected_seq, None
        unwrapped = self.expected_seq + (seq - self.expected_seq) % self.seq_modulus
        return unwrapped, unwrapped - self.expected_seq

    def _step_without_counter(self, seq: int | None, n_samples: int) -> Step:
        if self.expected_counter is None:
            return self._accept(Step(0, seq or 0), n_samples, first=True)
        seq_unwrapped, gap_packets = self._unwrap_seq(seq)
        gap = (gap_packets or 0) * n_samples
        step = Step(self.expected_counter + gap, seq_unwrapped, gap_samples=gap, gap_packets=gap_packets)
        return self._accept(step, n_samples, first=False)

    def _accept(self, step: Step, n_samples: int, *, first: bool) -> Step:
        if first:
            self.first_counter = step.counter
        self.expected_counter = step.counter + n_samples
        self.expected_seq = step.seq + 1
        self.received_samples += n_samples
        self.gap_samples += step.gap_samples
        return step
