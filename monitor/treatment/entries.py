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
from monitor.types import FieldValue, Record

TREATMENT = "treatment"
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
    """UTC ns of local ``date`` at ``time`` (local midnight when None) in ``tz``."""
    if time is None:
        return local_midnight_ns(date, tz)
    return to_ns(dt.datetime.combine(date, time, tzinfo=tz))


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
    """``2026-03-02`` for local midnight, ``2026-03-02 10:30`` otherwise."""
    local = to_local(time_ns, tz)
    return local.strftime("%Y-%m-%d") + ("" if local.time() == dt.time(0) else local.strftime(" %H:%M"))


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_time(text: str) -> dt.time | None:
    if not text.strip():
        return None
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day (HH:MM)") from None


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
