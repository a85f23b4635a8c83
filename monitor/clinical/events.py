"""Spasm episodes: the one way spasms are counted, from ``spasm_event`` records; local-time helpers.

The detector reports a spasm once per EMG channel, and the IMU's movement detector once
more: one spasm of a leg seen by the gastrocnemius and soleus electrodes and the shank's
IMU is three ``spasm_event`` rows. The clinical scales count spasms of the patient's limb,
and Snow et al. (1990) count "a rapid series of spasms without a pause" as one. So every
count (scores, report, terminal, alerts, the stored ``spasm_episode`` records the
dashboards count) goes through :func:`episodes`:

- a **limb** is a patient and a side (the ``side`` tag, from the ``[[device]]``'s ``side``;
  a wearable with ``side = "none"`` is a limb of its own, "");
- events of one limb merge into one **episode** when one starts before the previous ended
  plus :data:`EPISODE_GAP_S` (1 s, the detector's own ``merge_gap_s``: the pause a patient
  notices, so a rapid series is one spasm), across channels and wearables;
- a limb is **affected** when a Botox injection of the treatment log names its side
  (``both``: both legs) or a wearable on it is configured ``affected = true`` (its events
  carry the tag ``affected=true``), whenever in the patient's history
  (:mod:`monitor.clinical.affected`: a scoring call learns them once and passes them down as
  ``known_affected``). A patient with neither has every limb affected (nothing says
  otherwise), and a wearable without a side always counts: it cannot be placed on a
  non-affected limb. The Penn and Snow scores count the affected limbs' episodes only.

Events and episodes are both :class:`~monitor.types.SpasmEvent`: rows are read with
:func:`monitor.store.schema.spasm_event_from_record`, and an episode is its first event
extended to the last one's end (``events``: how many it merged).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from monitor.clinical.affected import affected_limbs, union_affected
from monitor.store.schema import SPASM_EPISODE, SPASM_EVENT, spasm_event_from_record
from monitor.types import MOVEMENT_KIND, NS_PER_S, FieldValue, Record, SpasmEvent

# The detector's ``merge_gap_s`` (monitor/dsp/params.py): bursts closer than this are one
# spasm on one channel, so the same rule joins channels and wearables of one limb.
EPISODE_GAP_S = 1.0
# Kinds written before the names of Thomas et al. (2014) were adopted, mapped on read.
LEGACY_KINDS = {"myoclonic": "myoclonus"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def episodes(
    records: Iterable[Record],
    gap_s: float = EPISODE_GAP_S,
    affected_only: bool = True,
    known_affected: Mapping[str, Iterable[str]] | None = None,
) -> list[SpasmEvent]:
    """The spasm episodes of the ``spasm_event`` records among ``records``, in onset order.

    Parameters
    ----------
    records : iterable of Record
        Any records; ``spasm_event`` ones are merged, ``treatment`` ones (Botox, its
        ``side``) say which limbs are affected.
    gap_s : float
        Events of one limb closer than this (offset to onset) are one episode, s.
    affected_only : bool
        Only the affected limbs' episodes (what the Penn and Snow scores count).
    known_affected : mapping of str to iterable of str, optional
        Affected sides per patient from the whole history
        (:func:`~monitor.clinical.affected.stored_affected`), added to those ``records``
        say. Give them whenever ``records`` are a window of the history (an hour, a day).

    Returns
    -------
    list of SpasmEvent
        One per episode: ``events`` says how many rows it merged, ``affected`` whether its
        limb counts for the scores; :func:`spasm_kind` gives its kind in the clinic's names.

    Examples
    --------
    >>> s = NS_PER_S
    >>> def ev(t_s, kind, side, **fields):
    ...     f = {"duration_s": 2.0, "peak_x_baseline": 8.0} | fields
    ...     return Record("spasm_event", t_s * s, f, {"patient": "p", "kind": kind, "side": side})
    >>> rows = [ev(0, "tonic", "left"), ev(1, "clonus", "left"),  # two muscles, one spasm
    ...         ev(2, "myoclonic", "left", peak_x_baseline=None),  # the IMU's jerk: old name
    ...         ev(10, "tonic", "left"), ev(10, "tonic", "right")]  # the other leg: its own
    >>> [(e.onset_ns // s, e.duration_s, spasm_kind(e), e.side, e.events) for e in episodes(rows)]
    [(0, 4.0, 'mixed', 'left', 3), (10, 2.0, 'tonic', 'left', 1), (10, 2.0, 'tonic', 'right', 1)]
    >>> botox = Record("treatment", 0, {"dose_u": 100.0}, {"patient": "p", "kind": "botox", "side": "left"})
    >>> [e.side for e in episodes(rows + [botox])]  # Penn and Snow: the injected leg only
    ['left', 'left']
    """
    records = list(records)
    limbs = union_affected(affected_limbs(records), known_affected or {})
    merger = EpisodeMerger(gap_s)
    events = sorted((r for r in records if r.measurement == SPASM_EVENT), key=lambda r: r.time_ns)
    for r in events:
        merger.add(r)
    out = []
    for episode in merger.episodes:
        known = limbs.get(episode.patient)
        affected = known is None or episode.side == "" or episode.side in known
        if affected or not affected_only:
            out.append(episode if affected else dataclasses.replace(episode, affected=False))
    return out


def spasm_rows(
    records: Iterable[Record],
    merge_overlapping: bool = True,
    known_affected: Mapping[str, Iterable[str]] | None = None,
) -> list[SpasmEvent]:
    """The spasms the scores count: :func:`episodes` of the affected limbs.

    ``known_affected`` as for :func:`episodes`. With ``merge_overlapping=False``, every
    ``spasm_event`` row on its own (as the detector reported it: per channel), for views of
    the detector itself.
    """
    if merge_overlapping:
        return episodes(records, known_affected=known_affected)
    events = (spasm_event_from_record(r) for r in records if r.measurement == SPASM_EVENT)
    return sorted(events, key=lambda event: event.onset_ns)


def spasm_kind(event: SpasmEvent) -> str:
    """A spasm's kind in today's names: old spools' ``myoclonic`` is read as ``myoclonus``
    (EMG) or ``movement`` (an IMU-only event: no EMG peak)."""
    if event.kind == "myoclonic" and event.peak_x_baseline is None and event.peak_mv is None:
        return MOVEMENT_KIND
    return LEGACY_KINDS.get(event.kind, event.kind)


class EpisodeMerger:
    """Merge ``spasm_event`` records, given in onset order, into episodes per limb.

    The streaming form of :func:`episodes` (the spike alert feeds it one event at a time).

    Parameters
    ----------
    gap_s : float
        Events of one limb closer than this are one episode, s.
    """

    def __init__(self, gap_s: float = EPISODE_GAP_S) -> None:
        self.gap_ns = round(gap_s * NS_PER_S)
        self.episodes: list[SpasmEvent] = []
        self._open: dict[tuple[str, str], int] = {}  # limb -> index of its latest episode

    def add(self, record: Record) -> bool:
        """Add one event; True when it starts a new episode, False when it joins the open one."""
        event = spasm_event_from_record(record)
        limb = (event.patient, event.side)
        i = self._open.get(limb)
        if i is not None and event.onset_ns <= self.episodes[i].offset_ns + self.gap_ns:
            self.episodes[i] = _join(self.episodes[i], event)
            return False
        self._open[limb] = len(self.episodes)
        self.episodes.append(event)
        return True


class EpisodeCounter:
    """Count a stream's episodes, keeping only each limb's open one (a run lasts months).

    ``add`` takes ``spasm_event`` records in onset order and says whether each starts an
    episode, as :class:`EpisodeMerger` does.
    """

    def __init__(self, gap_s: float = EPISODE_GAP_S) -> None:
        self.gap_ns = round(gap_s * NS_PER_S)
        self._open_until: dict[tuple[str, str], int] = {}  # limb -> offset of its latest episode

    def add(self, record: Record) -> bool:
        event = spasm_event_from_record(record)
        limb = (event.patient, event.side)
        until = self._open_until.get(limb)
        starts = until is None or event.onset_ns > until + self.gap_ns
        self._open_until[limb] = event.offset_ns if starts or until is None else max(until, event.offset_ns)
        return starts


def episode_records(
    records: Iterable[Record],
    gap_s: float = EPISODE_GAP_S,
    known_affected: Mapping[str, Iterable[str]] | None = None,
) -> list[Record]:
    """``spasm_episode`` records of every limb's episodes, for the dashboards to count.

    Tagged ``patient``, ``side`` (when known) and ``kind``; fields ``duration_s``,
    ``offset_ns``, ``events`` (rows merged), ``affected`` (bool: counted by the scores) and
    ``peak_x_baseline`` when EMG saw it. Stamped at the onset, so scoring a day again
    replaces the same points. ``known_affected`` as for :func:`episodes`.
    """
    out = []
    for episode in episodes(records, gap_s, affected_only=False, known_affected=known_affected):
        fields: dict[str, FieldValue] = {
            "duration_s": episode.duration_s,
            "offset_ns": episode.offset_ns,
            "events": episode.events,
            "affected": episode.affected,
        }
        if episode.peak_x_baseline is not None:
            fields["peak_x_baseline"] = episode.peak_x_baseline
        tags = {"patient": episode.patient} if episode.patient else {}
        if episode.side:
            tags["side"] = episode.side
        out.append(Record(SPASM_EPISODE, episode.onset_ns, fields, tags | {"kind": spasm_kind(episode)}))
    return out


def to_local(time_ns: int, tz: ZoneInfo) -> dt.datetime:
    """UTC ns → aware local datetime (µs resolution is plenty for hour and day bins)."""
    return (_EPOCH + dt.timedelta(microseconds=time_ns // 1000)).astimezone(tz)


def to_ns(moment: dt.datetime) -> int:
    """Aware datetime → UTC ns. Naive datetimes are refused (ARCHITECTURE.md: Time)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    delta = moment.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def local_hour_start_ns(time_ns: int, tz: ZoneInfo) -> int:
    """UTC ns of the start of the local clock hour holding ``time_ns``.

    Local, not UTC, hours: in zones offset by a half or quarter hour (India, Nepal) a UTC
    hour would straddle two of the patient's hours.
    """
    local = to_local(time_ns, tz)
    return to_ns(local.replace(minute=0, second=0, microsecond=0))


def local_midnight_ns(day: dt.date, tz: ZoneInfo) -> int:
    """UTC ns of local midnight starting ``day`` in ``tz``."""
    return to_ns(dt.datetime(day.year, day.month, day.day, tzinfo=tz))


def _join(first: SpasmEvent, event: SpasmEvent) -> SpasmEvent:
    """``first`` (an episode) extended by ``event``, which starts within its gap."""
    first_kind, kind = spasm_kind(first), spasm_kind(event)
    # The IMU's movement is evidence of the EMG's spasm, not a class of its own; two
    # different EMG classes in one episode are "mixed". The kind stays as stored (spasm_kind
    # reads it), which the merged peaks keep right for old spools' IMU-only "myoclonic".
    if MOVEMENT_KIND in (first_kind, kind):
        joined = event.kind if first_kind == MOVEMENT_KIND else first.kind
    else:
        joined = first.kind if first_kind == kind else "mixed"
    return dataclasses.replace(
        first,
        offset_ns=max(first.offset_ns, event.offset_ns),
        kind=joined,
        peak_mv=_largest(first.peak_mv, event.peak_mv),
        peak_x_baseline=_largest(first.peak_x_baseline, event.peak_x_baseline),
        imu_peak_dps=_largest(first.imu_peak_dps, event.imu_peak_dps),
        events=first.events + event.events,
    )


def _largest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)
