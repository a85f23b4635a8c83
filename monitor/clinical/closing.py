"""Spasm episodes written as they close: a live run's ``spasm_episode`` records within minutes.

The dashboards and the Grafana spike rule count ``spasm_episode`` records
(:func:`~monitor.clinical.events.episode_records`). Written only when a live run scored a
finished hour, they reached InfluxDB up to an hour late, and so did the alert. Here a live
run writes each episode once it is **closed**: no detector event of any channel or wearable
of its limb can join it any more, that is, none can start before its end plus the merge gap
(:data:`~monitor.clinical.events.EPISODE_GAP_S`). A detector reports an event some time
after its onset (it must see the spasm end, and whether the next burst continues it), so an
episode is closed once the run's data clock (the newest sample the pipeline has seen) has
passed its end + gap + ``settle_s``, the longest a detector holds an event
(:func:`monitor.live.episode_settle_s`: about 4 minutes with the default EMG parameters).

Nothing is written while an episode is open: its kind (``tonic``, ``clonus``, ``mixed``...)
is a tag, part of the point's series key, and may still change, and a point written early
would stay beside the final one. A closed episode is computed by
:func:`~monitor.clinical.events.episode_records` on its own events, the function the scores,
the report and an offline build use, so it is the point a batch over the same events gives.

An event reported later than ``settle_s`` (a wearable whose detector held it across a
disconnection reports it at the reconnect) that would join an episode already written is
counted in :attr:`EpisodeCloser.late` and not written: the spasm is counted once, as the
batch counts it, and the stored episode keeps the extent it was written with. A late event
that joins nothing is an episode of its own, written as it closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from monitor.clinical.affected import affected_limbs
from monitor.clinical.events import EPISODE_GAP_S, episode_records
from monitor.store.schema import SPASM_EVENT, TREATMENT, spasm_event_from_record
from monitor.types import NS_PER_S, Record

# Written episodes are remembered this long (data time) to recognise a late event joining
# one: a wearable away longer than a day reports nothing that old at its reconnect.
WRITTEN_MEMORY_S = 86_400.0


@dataclass
class _Open:
    """An open episode of one limb: its events' span (UTC ns) and the events."""

    start_ns: int
    end_ns: int
    events: list[Record] = field(default_factory=list)


_Predicate = Callable[[_Open], bool]


class EpisodeCloser:
    """Merge a live run's ``spasm_event`` records into episodes; return each once closed.

    Parameters
    ----------
    settle_s : float
        Longest time, in data time, a detector holds an event before reporting it, s.
    gap_s : float
        The merge rule's gap (events of one limb closer than this are one episode), s.
    known_affected : mapping of str to iterable of str, optional
        Affected sides per patient known before the run, from the whole history and the
        config (:func:`~monitor.clinical.affected.stored_affected`); the ``affected`` field
        of each episode follows :func:`~monitor.clinical.events.episodes`' rule with them.

    Examples
    --------
    >>> s = NS_PER_S
    >>> tags = {"patient": "p", "side": "left"}
    >>> closer = EpisodeCloser(settle_s=10.0)
    >>> closer.add([Record("spasm_event", 100 * s, {"duration_s": 2.0}, tags | {"kind": "tonic"}),
    ...             Record("spasm_event", 102 * s, {"duration_s": 1.0}, tags | {"kind": "clonus"})])
    >>> closer.advance(110 * s), closer.closed()  # it may still grow: nothing yet
    (None, [])
    >>> closer.advance(114 * s + 1)
    >>> [(r.time_ns // s, r.tags["kind"], r.fields["events"]) for r in closer.closed()]
    [(100, 'mixed', 2)]
    """

    def __init__(
        self,
        settle_s: float,
        gap_s: float = EPISODE_GAP_S,
        known_affected: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        if not settle_s >= 0 or not gap_s >= 0:
            raise ValueError(f"settle_s and gap_s must be >= 0, got {settle_s}, {gap_s}")
        self.settle_ns = round(settle_s * NS_PER_S)
        self.gap_s = gap_s
        self.gap_ns = round(gap_s * NS_PER_S)
        self.clock_ns: int | None = None  # newest sample seen, UTC ns
        self.late = 0  # late events that joined an episode already written
        self.written = 0  # episodes returned by closed()
        self._affected = {p: set(sides) for p, sides in (known_affected or {}).items()}
        self._open: dict[tuple[str, str], list[_Open]] = {}  # limb -> its open episodes
        self._written: dict[tuple[str, str], list[tuple[int, int]]] = {}  # limb -> written spans

    def add(self, records: Iterable[Record]) -> None:
        """Take the ``spasm_event`` records among ``records`` (any order); others are ignored,
        but for ``treatment`` ones, whose Botox side says which limb is affected."""
        for record in records:
            if record.measurement == TREATMENT:
                self._learn(record)
            elif record.measurement == SPASM_EVENT:
                self._learn(record)
                self._add_event(record)

    def advance(self, data_ns: int) -> None:
        """The pipeline has seen samples up to ``data_ns`` (UTC ns); the clock never goes back."""
        if self.clock_ns is None or data_ns > self.clock_ns:
            self.clock_ns = data_ns

    def closed(self) -> list[Record]:
        """``spasm_episode`` records of the episodes closed since the last call, in onset order."""
        if self.clock_ns is None:
            return []
        # Every event still to come starts after settled_ns: an episode ending (with its gap)
        # before it can grow no more.
        settled_ns = self.clock_ns - self.settle_ns
        return self._close(lambda episode: episode.end_ns + self.gap_ns < settled_ns)

    def close_all(self) -> list[Record]:
        """End of the run: every open episode, closed (no more events will come)."""
        return self._close(lambda episode: True)

    # -- internals ---------------------------------------------------------------------------

    def _learn(self, record: Record) -> None:
        for patient, sides in affected_limbs([record]).items():
            self._affected.setdefault(patient, set()).update(sides)

    def _add_event(self, record: Record) -> None:
        event = spasm_event_from_record(record)
        limb = (event.patient, event.side)
        start_ns, end_ns = event.onset_ns, event.offset_ns
        if any(self._joins(a, b, start_ns, end_ns) for a, b in self._written.get(limb, [])):
            self.late += 1
            return
        merged = _Open(start_ns, end_ns, [record])
        rest: list[_Open] = []
        for episode in self._open.get(limb, []):
            if self._joins(episode.start_ns, episode.end_ns, merged.start_ns, merged.end_ns):
                merged = _Open(
                    min(merged.start_ns, episode.start_ns),
                    max(merged.end_ns, episode.end_ns),
                    episode.events + merged.events,
                )
            else:
                rest.append(episode)
        # Open episodes of a limb never touch one another, so one pass joins all it reaches.
        self._open[limb] = [*rest, merged]

    def _joins(self, a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
        """Whether two spans are one episode by the merge rule: the later starts within the gap."""
        if a_start <= b_start:
            return b_start <= a_end + self.gap_ns
        return a_start <= b_end + self.gap_ns

    def _close(self, is_closed: _Predicate) -> list[Record]:
        out: list[Record] = []
        for limb, episodes in self._open.items():
            done = [e for e in episodes if is_closed(e)]
            if not done:
                continue
            self._open[limb] = [e for e in episodes if not is_closed(e)]
            written = self._written.setdefault(limb, [])
            for episode in done:
                out += episode_records(episode.events, self.gap_s, self._affected)
                written.append((episode.start_ns, episode.end_ns))
        self._forget_written()
        self.written += len(out)
        return sorted(out, key=lambda r: r.time_ns)

    def _forget_written(self) -> None:
        if self.clock_ns is None:
            return
        horizon_ns = self.clock_ns - round(WRITTEN_MEMORY_S * NS_PER_S)
        for limb, spans in self._written.items():
            self._written[limb] = [(a, b) for a, b in spans if b >= horizon_ns]
