"""Which limbs of a patient the scores count: one definition, from the patient's whole history.

A limb (patient + side) is **affected** when a Botox injection of the treatment log names its
side (``both``: left and right), or a wearable on it is configured ``affected = true`` (its
``spasm_event`` records carry the tag ``affected=true``). A patient with neither has every
limb counted, and a wearable without a side always counts
(:func:`monitor.clinical.events.episodes` applies the rule).

These are facts about the patient, not about the hour or day being scored: on a day when the
affected leg's wearable reported no spasm and the other leg's did, the left leg is still the
injected one. So every scoring call learns them once from everything known, and passes them
down to each count as ``known_affected``:

- a spool's whole history, :func:`stored_affected`: the treatment log of all time and every
  ``affected=true`` event ever stored, plus the config's wearables where the caller has a
  config (:func:`configured_affected`): the stored scores and episodes
  (:func:`monitor.clinical.scores.score_spool`), a live run's alert engine and episode closer;
- the report reads all of a patient's records and learns them with :func:`affected_limbs`
  from those (and the config, given one).

Counting functions given records and no ``known_affected`` learn from the records alone:
right only when the records are the whole history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from monitor.store import Spool
from monitor.store.line_parser import parse_series
from monitor.store.schema import SPASM_EVENT, TREATMENT
from monitor.types import Record

# Patient -> affected sides, as known from the whole history (a scoring call's ``known_affected``).
KnownAffected = Mapping[str, Iterable[str]]
SIDES = ("left", "right")
_ALL_TIME_NS = (0, 2**63 - 1)
# Stored series keys of affected-tagged events: the LIKE narrows them, the parsed tags decide
# (an escaped tag value could hold the same text).
_TAGGED_SERIES_SQL = "SELECT DISTINCT series FROM points WHERE measurement = ? AND series LIKE ?"
_TAGGED_PATTERN = "%,affected=true%"


class Wearable(Protocol):
    """What :func:`configured_affected` reads of a ``[[device]]`` (``monitor.config.DeviceEntry``)."""

    @property
    def side(self) -> str: ...

    @property
    def affected(self) -> bool: ...


def affected_limbs(records: Iterable[Record]) -> dict[str, set[str]]:
    """The affected sides of each patient that ``records`` say anything about.

    A Botox ``treatment`` record's ``side`` (``both``: left and right), and the ``side`` of
    ``spasm_event`` records tagged ``affected=true``. A patient absent from the result has no
    such information: every limb counts. A tagged event without a side says nothing of the
    other limbs, as a configured wearable without one (:func:`configured_affected`).

    Examples
    --------
    >>> botox = Record("treatment", 0, {"dose_u": 100.0}, {"patient": "p", "kind": "botox", "side": "both"})
    >>> tags = {"patient": "q", "side": "left", "affected": "true"}
    >>> tagged = Record("spasm_event", 0, {"duration_s": 1.0}, tags)
    >>> sorted((p, sorted(s)) for p, s in affected_limbs([botox, tagged]).items())
    [('p', ['left', 'right']), ('q', ['left'])]
    """
    out: dict[str, set[str]] = {}
    for r in records:
        patient = r.tags.get("patient", "")
        if r.measurement == TREATMENT and r.tags.get("kind") == "botox":
            side = r.tags.get("side", "")
            sides = set(SIDES) if side == "both" else {side} if side in SIDES else set()
            out.setdefault(patient, set()).update(sides)
        elif r.measurement == SPASM_EVENT and r.tags.get("affected") == "true" and r.tags.get("side"):
            out.setdefault(patient, set()).add(r.tags["side"])
    return out


def configured_affected(patient: str, devices: Iterable[Wearable]) -> dict[str, set[str]]:
    """The sides of a config's ``affected = true`` wearables, for its patient ({} when none).

    A wearable without a side (``side = "none"``) always counts and says nothing of the others.
    """
    sides = {d.side for d in devices if d.affected and d.side in SIDES}
    return {patient: sides} if sides else {}


def stored_affected(spool: Spool, configured: KnownAffected | None = None) -> dict[str, set[str]]:
    """The affected sides of each patient from a spool's whole history, and a config's.

    Parameters
    ----------
    spool : Spool
        Read for its treatment log of all time and the stored series of ``affected=true``
        spasm events (series keys only: a series per channel, not a row per spasm).
    configured : mapping of str to iterable of str, optional
        Affected sides the caller's config names (:func:`configured_affected`).

    Returns
    -------
    dict of str to set of str
        Patient → affected sides; a patient absent has every limb counted.
    """
    treatments = spool.query(*_ALL_TIME_NS, measurement=TREATMENT)
    series = spool.rows(_TAGGED_SERIES_SQL, (SPASM_EVENT, _TAGGED_PATTERN))
    tagged = [Record(SPASM_EVENT, 0, {}, parse_series(str(key))[1]) for (key,) in series]
    return union_affected(affected_limbs(treatments + tagged), configured or {})


def union_affected(*known: KnownAffected) -> dict[str, set[str]]:
    """The affected sides of each patient in any of ``known`` (each: patient → sides)."""
    out: dict[str, set[str]] = {}
    for mapping in known:
        for patient, sides in mapping.items():
            out.setdefault(patient, set()).update(sides)
    return out
