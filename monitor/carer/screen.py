"""The carer's status screen, gathered from the spool alone (opened read-only).

It answers, in plain words, what a carer asks while ``run`` is running: is each wearable
connected, since when, is data arriving, how full is its battery, is the signal usable,
how long was it worn today, how many spasms today, does the data reach the clinic's server,
and did the alerts reach anyone. Every fact comes from stored records, so the screen works
from another process (SQLite WAL: readers never wait for the writer) and on a copy.

One definition each: worn time is :mod:`monitor.clinical.observed`'s observed time, a spasm
is an episode of :func:`monitor.clinical.events.episodes`, forwarding is
:func:`monitor.store.store_status`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from monitor.clinical.events import episodes, local_midnight_ns, to_local
from monitor.clinical.observed import observed_seconds_by_date
from monitor.config import AppConfig, DeviceEntry
from monitor.store import Spool, store_status
from monitor.store.schema import ALERT, COVERAGE, DEVICE_STATUS, OBSERVATION, SIGNAL_QUALITY, SPASM_EVENT
from monitor.store.status import age_text
from monitor.types import NS_PER_S, Record

NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 3600 * NS_PER_S
# Coverage is written per stream and minute once the minute is over, so data a few
# minutes old is normal; older than this while "connected" means nothing is arriving.
STALE_DATA_NS = 5 * NS_PER_MIN
STATUS_LOOKBACK_NS = 30 * 24 * NS_PER_HOUR  # connection history read for "since when"
ALERT_LOOKBACK_NS = 24 * NS_PER_HOUR
MAX_ALERTS = 5
LOW_BATTERY_PCT = 20  # below this the carer is told to charge it tonight
_ISSUE_WORDS = {
    "electrode_off": "electrode off",
    "clipping": "signal too strong (clipping)",
    "nonfinite": "unreadable samples",
    "motion_artifact": "movement noise",
    "ecg_artifact": "heartbeat noise",
}


@dataclass(frozen=True, slots=True)
class WearableLine:
    """One wearable as the carer sees it.

    Attributes
    ----------
    device : str
        Its device id (the ``device`` tag).
    name : str
        Where it is worn and what it measures, e.g. ``left calf EMG``.
    state : str
        ``connected``, ``disconnected``, ``retrying``, ``stopped`` or ``never connected``.
    since_ns : int or None
        When the current state began, UTC ns.
    problem : str
        Why it is not connected (the collector's ``cause``), "" when none is known.
    last_data_ns : int or None
        End of the last minute with samples, UTC ns.
    battery_pct : int or None
        Last battery level, percent.
    signal_issues_s : dict
        Issue → seconds of unusable signal today.
    emg : bool
        Whether it measures EMG (the only signal whose quality is recorded).
    """

    device: str
    name: str
    state: str
    since_ns: int | None
    problem: str
    last_data_ns: int | None
    battery_pct: int | None
    signal_issues_s: dict[str, float] = field(default_factory=dict)
    emg: bool = False


@dataclass(frozen=True, slots=True)
class AlertLine:
    """A recent alert and whether a notification reached anyone (None: not recorded)."""

    time_ns: int
    rule: str
    message: str
    delivered: bool | None


@dataclass(frozen=True, slots=True)
class CarerStatus:
    """Everything on the screen; :meth:`lines` for people, :meth:`to_json` for scripts."""

    patient: str
    timezone: str
    now_ns: int
    wearables: list[WearableLine]
    worn_today_h: float
    spasms_today: int
    spasms_today_by_side: dict[str, int]
    forwarding: dict[str, Any]
    alerts: list[AlertLine]

    def lines(self) -> list[str]:
        """The screen as plain-language lines."""
        zone = ZoneInfo(self.timezone)
        out = [f"Patient {self.patient}, {_clock(self.now_ns, zone, self.now_ns)} ({self.timezone})", ""]
        out.append("Wearables")
        for w in self.wearables:
            out.append(f"  {w.name} ({w.device}): {self._state_words(w, zone)}")
            details = [
                self._data_words(w, zone),
                _battery_words(w.battery_pct),
                _signal_words(w.signal_issues_s) if w.emg else "",
            ]
            out.append("    " + "; ".join(d for d in details if d))
        if not self.wearables:
            out.append("  none configured ([[device]] in config.toml)")
        out += ["", "Today"]
        out.append(f"  worn {self.worn_today_h:.1f} h")
        if self.worn_today_h == 0:
            out.append("  spasms: not known (no wearable has been worn today)")
        else:
            sides = ", ".join(
                f"{n} {side or 'unsided'}" for side, n in sorted(self.spasms_today_by_side.items())
            )
            out.append(
                f"  spasms: {self.spasms_today}"
                + (f" ({sides})" if len(self.spasms_today_by_side) > 1 else "")
            )
        out += [
            "",
            "Sending to the clinic's server",
            "  " + self.forwarding["words"],
            "",
            "Alerts (last 24 h)",
        ]
        for a in self.alerts:
            told = {True: "delivered", False: "NOT delivered", None: "delivery not recorded"}[a.delivered]
            out.append(f"  {_clock(a.time_ns, zone, self.now_ns)} {a.message} ({told})")
        if not self.alerts:
            out.append("  none")
        return out

    def to_json(self) -> dict[str, Any]:
        """The same facts for scripts: times as UTC ns, names as stored."""
        return asdict(self)

    def _state_words(self, w: WearableLine, zone: ZoneInfo) -> str:
        if w.since_ns is None:
            return "never connected"
        since = f"since {_clock(w.since_ns, zone, self.now_ns)} (for {age_text(self.now_ns - w.since_ns)})"
        words = {"connected": "connected", "retrying": "not connected, retrying", "stopped": "not collecting"}
        text = f"{words.get(w.state, 'not connected')} {since}"
        return text + (f": {w.problem}" if w.problem else "")

    def _data_words(self, w: WearableLine, zone: ZoneInfo) -> str:
        if w.last_data_ns is None:
            return "no data yet"
        age_ns = self.now_ns - w.last_data_ns
        words = f"last data {_clock(w.last_data_ns, zone, self.now_ns)} ({age_text(age_ns)} ago)"
        if w.state == "connected" and age_ns > STALE_DATA_NS:
            words += ", NOTHING ARRIVING: is `spasm-monitor run` still running?"
        return words


def carer_status(spool: Spool, config: AppConfig, now_ns: int) -> CarerStatus:
    """Gather the status screen from an open (read-only) spool.

    Parameters
    ----------
    spool : Spool
        The spool ``run`` writes.
    config : AppConfig
        The wearables (their placement, side and muscle name them), the patient and timezone.
    now_ns : int
        The wall clock, UTC ns ("today" is the patient's local day of it).
    """
    zone = ZoneInfo(config.patient.timezone)
    patient = config.patient.id
    midnight_ns = local_midnight_ns(to_local(now_ns, zone).date(), zone)
    end_ns = now_ns + NS_PER_S
    status_rows = spool.query(now_ns - STATUS_LOOKBACK_NS, end_ns, measurement=DEVICE_STATUS)
    sessions = spool.query(now_ns - STATUS_LOOKBACK_NS, end_ns, measurement="ble_session")
    # From an hour before midnight: coverage and observation intervals that straddle it.
    coverage = spool.query(midnight_ns - NS_PER_HOUR, end_ns, measurement=COVERAGE)
    quality = spool.query(midnight_ns, end_ns, measurement=SIGNAL_QUALITY)
    wearables = [_wearable(d, status_rows, sessions, coverage, quality) for d in config.devices]
    observed = spool.query(midnight_ns - NS_PER_HOUR, end_ns, measurement=OBSERVATION, patient=patient)
    mine = [r for r in coverage if r.tags.get("patient", "") == patient]
    worn_s = (
        observed_seconds_by_date(observed + mine, zone)
        .get(patient, {})
        .get(to_local(now_ns, zone).date(), 0.0)
    )
    events = spool.query(midnight_ns - NS_PER_HOUR, end_ns, measurement=SPASM_EVENT, patient=patient)
    spasms = [e for e in episodes(events, affected_only=False) if e.onset_ns >= midnight_ns]
    by_side: dict[str, int] = {}
    for e in spasms:
        by_side[e.side] = by_side.get(e.side, 0) + 1
    alerts = [
        AlertLine(
            r.time_ns,
            r.tags.get("rule", ""),
            str(r.fields.get("message", "")),
            _bool(r.fields.get("delivered")),
        )
        for r in spool.query(now_ns - ALERT_LOOKBACK_NS, end_ns, measurement=ALERT)
        if r.tags.get("patient", patient) == patient
    ][-MAX_ALERTS:]
    return CarerStatus(
        patient,
        config.patient.timezone,
        now_ns,
        wearables,
        round(worn_s / 3600, 2),
        len(spasms),
        by_side,
        _forwarding(spool, config, now_ns),
        alerts,
    )


def device_name(device: DeviceEntry) -> str:
    """Where a wearable is worn and what it measures: ``left calf EMG``, ``right shank motion``."""
    parts = [device.side] if device.side != "none" else []
    parts.append(device.placement.replace("_", " "))
    parts.append("EMG" if device.muscle else "motion")
    return " ".join(parts)


def _wearable(
    device: DeviceEntry,
    status_rows: list[Record],
    sessions: list[Record],
    coverage: list[Record],
    quality: list[Record],
) -> WearableLine:
    device_id = device.device_id
    state, since_ns, problem, battery = "never connected", None, "", None
    for r in status_rows:
        if r.tags.get("device") != device_id:
            continue
        if "battery_pct" in r.fields:
            battery = int(r.fields["battery_pct"])
        if "state" in r.fields or "connected" in r.fields:
            new = str(r.fields.get("state", "connected" if r.fields.get("connected") else "disconnected"))
            if new != state:  # the state began at its first record, not its latest
                state, since_ns = new, r.time_ns
            problem = str(r.fields.get("cause", "")) if new != "connected" else ""
    ended = [r.time_ns for r in sessions if r.tags.get("device") == device_id]
    if ended and since_ns is not None and max(ended) >= since_ns and state == "connected":
        state, since_ns, problem = "stopped", max(ended), ""  # the run ended its session
    ends = [
        r.time_ns + round(float(r.fields.get("covered_s", 0.0)) * NS_PER_S)
        for r in coverage
        if r.tags.get("device") == device_id
    ]
    issues: dict[str, float] = {}
    for r in quality:
        if r.tags.get("device") == device_id:
            issue = r.tags.get("issue", "")
            issues[issue] = issues.get(issue, 0.0) + float(r.fields.get("duration_s", 0.0))
    return WearableLine(
        device_id,
        device_name(device),
        state,
        since_ns,
        problem,
        max(ends, default=None),
        battery,
        issues,
        emg=bool(device.muscle),
    )


def _forwarding(spool: Spool, config: AppConfig, now_ns: int) -> dict[str, Any]:
    status = store_status(spool)
    facts: dict[str, Any] = {
        "configured": config.store.influx is not None,
        "queued_points": status.queued_points,
        "set_aside_points": status.set_aside_points,
        "last_sent_ns": status.last_sent_at_ns,
        "last_error": status.last_error,
    }
    if config.store.influx is None:
        words = "not set up: the data stays on this gateway (no [store.influx] in config.toml)"
    elif status.last_sent_at_ns is None:
        words = f"nothing sent yet; {status.queued_points:,} points waiting"
    else:
        age = age_text(now_ns - status.last_sent_at_ns)
        words = f"last sent {age} ago; {status.queued_points:,} points waiting"
        if status.last_error and (status.last_error_at_ns or 0) > status.last_sent_at_ns:
            words += f"; FAILING since then: {status.last_error}"
    if status.set_aside_points:
        words += f"; {status.set_aside_points:,} points refused by the server (`store status`)"
    facts["words"] = words
    return facts


def _battery_words(pct: int | None) -> str:
    if pct is None:
        return "battery unknown"
    return f"battery {pct}%" + (" (LOW: charge it)" if pct < LOW_BATTERY_PCT else "")


def _signal_words(issues: dict[str, float]) -> str:
    if not issues:
        return "signal good today"
    parts = [
        f"{_ISSUE_WORDS.get(k, k.replace('_', ' '))} {age_text(round(s * NS_PER_S))}"
        for k, s in sorted(issues.items())
    ]
    return "signal problems today: " + ", ".join(parts)


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _clock(time_ns: int, zone: ZoneInfo, now_ns: int) -> str:
    """Local ``HH:MM`` today, with the date on another day."""
    local = to_local(time_ns, zone)
    today = to_local(now_ns, zone).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")
