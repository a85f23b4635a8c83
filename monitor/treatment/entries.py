"""Treatment entries: botulinum toxin injections and physiotherapy sessions, validated.

An entry is stamped at local midnight of its date in the patient's timezone (or at the
given local time of day), converted to UTC ns: a clinic writes "injected on 2 March", and
that day must line up with the patient's local days in the clinical summaries.

Dose ceilings are typo guards, not clinical advice: units of different botulinum toxin
products are not interchangeable, and a dose above the product's labelled maximum per
treatment session is far more likely a slip (an extra zero, the wrong product) than real.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.clinical.events import local_midnight_ns, to_local, to_ns
from monitor.store.schema import TREATMENT
from monitor.types import FieldValue, Record

SIDES = ("left", "right", "both")

# Labelled maximum total dose per session, U (adult spasticity unless noted):
# onabotulinumtoxinA (Botox) 400 U and incobotulinumtoxinA (Xeomin) 400 U (US labels);
# abobotulinumtoxinA (Dysport) 1500 U (lower limb, US label); rimabotulinumtoxinB (Myobloc)
# has no spasticity label, 10,000 U is the highest dose studied (Lew MF et al., Neurology
# 1997;49:701, cervical dystonia).
MAX_DOSE_U = {
    "onabotulinumtoxinA": 400.0,
    "incobotulinumtoxinA": 400.0,
    "abobotulinumtoxinA": 1500.0,
    "rimabotulinumtoxinB": 10_000.0,
}
PRODUCT_ALIASES = {
    "botox": "onabotulinumtoxinA",
    "xeomin": "incobotulinumtoxinA",
    "dysport": "abobotulinumtoxinA",
    "myobloc": "rimabotulinumtoxinB",
    "neurobloc": "rimabotulinumtoxinB",
}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 .'/()-]{0,63}$")  # a muscle, exercise or session kind
# The rule of config.toml's [patient] id (monitor/config/app.py): the tag on every record and
# the report's title, so a real name ("John Smith") or an e-mail address must not get in.
PSEUDONYM = re.compile(r"[A-Za-z0-9_-]{1,32}")
_GAP_SEARCH_MIN = 26 * 60  # the longest clock change on record skipped a whole day (Samoa, 2011)


@dataclass(frozen=True, slots=True)
class BotoxInjection:
    """One botulinum toxin treatment session.

    Attributes
    ----------
    date : date
        Local date of the injection.
    muscles : tuple of str
        Muscles injected (``gastrocnemius``, ``soleus``...).
    side : {"left", "right", "both"}
    dose_u : float
        Total dose, units of ``product`` (U).
    product : str
        Generic name (``onabotulinumtoxinA``...); brand names are accepted and normalized.
    time : time or None
        Local time of day, when known (otherwise local midnight).
    note : str
    """

    date: dt.date
    muscles: tuple[str, ...]
    side: str
    dose_u: float
    product: str = "onabotulinumtoxinA"
    time: dt.time | None = None
    note: str = ""

    def __post_init__(self) -> None:
        product = PRODUCT_ALIASES.get(self.product.lower(), self.product)
        object.__setattr__(self, "product", product)
        if product not in MAX_DOSE_U:
            known = ", ".join([*MAX_DOSE_U, *PRODUCT_ALIASES])
            raise ValueError(f"product: {self.product!r} is not a known botulinum toxin ({known})")
        if not self.muscles:
            raise ValueError("muscles: give at least one muscle")
        for muscle in self.muscles:
            _check_name("muscles", muscle)
        if self.side not in SIDES:
            raise ValueError(f"side: {self.side!r} is not one of {', '.join(SIDES)}")
        if not 0 < self.dose_u <= MAX_DOSE_U[product]:
            raise ValueError(
                f"dose_u: {self.dose_u:g} U is outside 0 < dose <= {MAX_DOSE_U[product]:g} U, the labelled"
                f" maximum per session for {product}; check the value and the product"
            )

    def to_record(self, tz: ZoneInfo, patient: str = "") -> Record:
        fields: dict[str, FieldValue] = {
            "dose_u": float(self.dose_u),
            "product": self.product,
            "muscles": ",".join(self.muscles),
        }
        if self.note:
            fields["note"] = self.note
        return Record(
            TREATMENT, entry_time_ns(self.date, self.time, tz), fields, _tags("botox", patient, self.side)
        )


@dataclass(frozen=True, slots=True)
class PtSession:
    """One physiotherapy session.

    Attributes
    ----------
    date : date
        Local date of the session.
    pt_kind : str
        What kind of session (``stretching``, ``strengthening``, ``gait``...).
    exercises : tuple of str
        Exercises done (may be empty).
    time : time or None
        Local time of day, when known.
    note : str
    """

    date: dt.date
    pt_kind: str
    exercises: tuple[str, ...] = ()
    time: dt.time | None = None
    note: str = ""

    def __post_init__(self) -> None:
        _check_name("pt_kind", self.pt_kind)
        for exercise in self.exercises:
            _check_name("exercises", exercise)

    def to_record(self, tz: ZoneInfo, patient: str = "") -> Record:
        fields: dict[str, FieldValue] = {"pt_kind": self.pt_kind, "exercises": "; ".join(self.exercises)}
        if self.note:
            fields["note"] = self.note
        return Record(TREATMENT, entry_time_ns(self.date, self.time, tz), fields, _tags("pt", patient))


Entry = BotoxInjection | PtSession


def entry_time_ns(date: dt.date, time: dt.time | None, tz: ZoneInfo) -> int:
    """UTC ns of local ``date`` at ``time`` (local midnight when None) in ``tz``.

    A local time the clocks skip (02:30 on the spring-forward day) is refused with the
    nearest valid one; a time they pass twice (the fall-back hour) is refused unless ``time``
    carries its UTC offset (``02:30+02:00``), which must be one of ``tz``'s that day.

    Raises
    ------
    ValueError
        ``time: ...`` naming the date, the time and what to give instead.
    """
    if time is None:
        return local_midnight_ns(date, tz)
    wall = dt.datetime.combine(date, time.replace(tzinfo=None))
    shown = f"{date.isoformat()} {time.strftime('%H:%M')}"
    offsets = {_exists(wall.replace(tzinfo=tz, fold=fold)) for fold in (0, 1)} - {None}
    if not offsets:
        raise ValueError(_skipped(wall, tz, shown))
    if time.tzinfo is not None:  # an explicit offset picks one of the two
        given = time.utcoffset()
        if given not in offsets:
            valid = " or ".join(sorted(_offset_text(o) for o in offsets if o is not None)) or "none"
            raise ValueError(
                f"time: {shown}{_offset_text(given)} is not a local time in {tz.key}"
                f" (its UTC offset then: {valid})"
            )
        return to_ns(dt.datetime.combine(date, time))
    if len(offsets) == 2:
        first, second = (wall.replace(tzinfo=tz, fold=fold) for fold in (0, 1))
        hhmm = time.strftime("%H:%M")
        raise ValueError(
            f"time: {shown} happens twice in {tz.key} (the clocks went back):"
            f" give {hhmm}{_offset_text(first.utcoffset())} for the first ({first.tzname()})"
            f" or {hhmm}{_offset_text(second.utcoffset())} for the second ({second.tzname()})"
        )
    return to_ns(wall.replace(tzinfo=tz))


def _exists(moment: dt.datetime) -> dt.timedelta | None:
    """The UTC offset of an aware local ``moment``, None if the wall clock never shows it."""
    back = moment.astimezone(dt.UTC).astimezone(moment.tzinfo)
    return moment.utcoffset() if back.replace(tzinfo=None) == moment.replace(tzinfo=None) else None


def _skipped(wall: dt.datetime, tz: ZoneInfo, shown: str) -> str:
    """The message for a local time the clocks jump over, with the nearest valid minute."""
    minute = dt.timedelta(minutes=1)
    start = wall.replace(second=0, microsecond=0)
    before, after = start - minute, start + minute
    for _ in range(_GAP_SEARCH_MIN):
        if _exists(before.replace(tzinfo=tz)) is not None:
            break
        before -= minute
    for _ in range(_GAP_SEARCH_MIN):
        if _exists(after.replace(tzinfo=tz)) is not None:
            break
        after += minute
    nearest = before if wall - before < after - wall else after

    def hhmm(moment: dt.datetime) -> str:
        day = "" if moment.date() == wall.date() else f"{moment.date().isoformat()} "
        return day + moment.strftime("%H:%M")

    return (
        f"time: {shown} does not exist in {tz.key} (the clocks went forward from"
        f" {hhmm(before + minute)} to {hhmm(after)}): the nearest valid time is {hhmm(nearest)}"
    )


def _offset_text(offset: dt.timedelta | None) -> str:
    """``+02:00`` for a UTC offset."""
    if offset is None:
        return ""
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def check_pseudonym(patient: str) -> str:
    """``patient`` if it is a pseudonym (1-32 letters, digits, ``-`` or ``_``), else ValueError.

    The message says in one line why it looks like something else (a name, an address).
    """
    if PSEUDONYM.fullmatch(patient):
        return patient
    if not patient:
        why = "it is empty: the entry would belong to no patient and be left out of the report"
    elif " " in patient.strip():
        why = "it has a space, like a real name"
    elif "@" in patient:
        why = "it has an @, like an e-mail address"
    elif len(patient) > 32:
        why = "it is longer than 32 characters"
    else:
        bad = next(c for c in patient if not PSEUDONYM.fullmatch(c))
        why = f"it has {bad!r}"
    raise ValueError(
        f"patient {patient!r} is not a pseudonym ({why}); give the id of config.toml's [patient],"
        " such as p01 (letters, digits, - or _), never a name"
    )


def describe(record: Record, tz: ZoneInfo) -> str:
    """One line for ``treatment list``: local date and time, kind and details."""
    when = local_when(record.time_ns, tz)
    f, kind = record.fields, record.tags.get("kind", "?")
    if kind == "botox":
        what = f"{float(f['dose_u']):g} U {f['product']} {record.tags.get('side', '')}: {f['muscles']}"
    elif kind == "pt":
        what = f"{f['pt_kind']}" + (f": {f['exercises']}" if f.get("exercises") else "")
    else:
        what = ", ".join(f"{k}={v}" for k, v in f.items())
    note = f" ({f['note']})" if f.get("note") else ""
    return f"{when}  {record.tags.get('patient', '-'):8s} {kind:6s} {what}{note}"


def local_when(time_ns: int, tz: ZoneInfo) -> str:
    """``2026-03-02`` for local midnight, ``2026-03-02 10:30`` otherwise; with the UTC offset
    (``2026-10-25 02:30+01:00``) in an hour the clocks pass twice."""
    local = to_local(time_ns, tz)
    text = local.strftime("%Y-%m-%d") + ("" if local.time() == dt.time(0) else local.strftime(" %H:%M"))
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        text += _offset_text(local.utcoffset())
    return text


def local_date_time(time_ns: int, tz: ZoneInfo) -> tuple[dt.date, dt.time | None]:
    """The local date and time of day an entry was given as (None at midnight), with the UTC
    offset in an hour the clocks pass twice: the inverse of :func:`entry_time_ns`."""
    local = to_local(time_ns, tz)
    if local.time() == dt.time(0):
        return local.date(), None
    time = local.time()
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.date(), time.replace(tzinfo=dt.timezone(local.utcoffset() or dt.timedelta(0)))
    return local.date(), time


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_time(text: str) -> dt.time | None:
    """``HH:MM`` local, or ``HH:MM+02:00`` with its UTC offset (an hour the clocks pass twice)."""
    if not text.strip():
        return None
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time of day (HH:MM, or HH:MM+02:00 with its UTC offset)"
        ) from None


def parse_zone(name: str) -> ZoneInfo:
    """An IANA timezone by name (``Europe/Berlin``), with a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {name!r} is not an IANA name such as Europe/Berlin or UTC") from None


def split_list(text: str) -> tuple[str, ...]:
    """``"a, b;c"`` → ``("a", "b", "c")``: commas or semicolons separate items."""
    return tuple(item.strip() for item in re.split(r"[;,]", text) if item.strip())


def _tags(kind: str, patient: str, side: str = "") -> dict[str, str]:
    tags = {"kind": kind}
    if patient:
        tags["patient"] = patient
    if side:
        tags["side"] = side
    return tags


def _check_name(column: str, value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(
            f"{column}: {value!r} must start with a letter and hold at most 64 letters,"
            " digits, spaces or .'/()-"
        )
