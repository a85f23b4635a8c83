"""The alert engine: rules over the record stream, with a cooldown per dedupe key.

Pure logic, no I/O and no wall clock: time comes from the records. Feed records in time
order (as the spool returns them); :meth:`AlertEngine.tick` advances time when nothing
arrives, which is how a silent device is noticed.

Rules (thresholds in :class:`~monitor.alerts.thresholds.AlertThresholds`):

- ``spasm_spike``: see :mod:`monitor.alerts.spike`; per patient, counting what the hourly
  ``clinical_score`` records and the Grafana rule count: episodes of the affected limbs
  (:func:`monitor.clinical.events.episodes`: a spasm seen by several channels and wearables
  of one limb is one; a limb is affected when a Botox ``treatment`` names its side or an
  ``affected=true`` wearable is on it, and every limb is while nothing says which).
- ``tonic_spasm``: a ``spasm_event`` of kind ``tonic`` lasting more than ``tonic_max_s``;
  stamped when it crossed that length (onset + limit).
- ``device_offline``: no record from a (patient, device) for more than ``offline_max_min``,
  seen either live (the engine's clock moved on) or afterwards from a ``gap`` record the
  collector wrote on reconnecting; one alert per silence.
- ``poor_signal``: a ``signal_quality`` episode (electrode off, clipping, non-finite or
  motion artefact) longer than ``poor_signal_max_min``; stamped at onset + limit.
- ``forward_stalled``: points have waited longer than ``forward_stalled_h`` with nothing
  acknowledged by InfluxDB (:meth:`AlertEngine.forwarding`, fed by the live run).

- ``wearing_off``: a ``treatment_response`` record with a wearing-off day
  (:mod:`monitor.clinical.response`): "wearing off from day N: X % of the pre-injection
  rate", once per patient and injection.

After an alert, the same key (rule, patient, device) stays quiet for ``cooldown_min``: a
burst of spasms sends one alert, not fifty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.alerts.alert import (
    DEVICE_OFFLINE,
    FORWARD_STALLED,
    POOR_SIGNAL,
    SPASM_SPIKE,
    TONIC_SPASM,
    WEARING_OFF,
    Alert,
)
from monitor.alerts.spike import NS_PER_H, SpikeBaseline
from monitor.alerts.thresholds import AlertThresholds
from monitor.clinical.affected import affected_limbs
from monitor.clinical.response import wearing_off_text
from monitor.store.schema import (
    ALERT,
    CLINICAL_SCORE,
    GAP,
    SIGNAL_QUALITY,
    SPASM_EPISODE,
    SPASM_EVENT,
    SPOOL_DROP,
    TREATMENT,
    TREATMENT_RESPONSE,
)
from monitor.types import NS_PER_S, Record

NS_PER_MIN = 60 * NS_PER_S
_FIRED_MEMORY_NS = 7 * 24 * 60 * NS_PER_MIN  # how far back out-of-order records are deduped
# Records the pipeline writes about data, not from a device: they never prove a device is alive
# (a spasm_episode is written minutes after its events, which the rules have seen).
_NOT_DEVICE_DATA = frozenset({ALERT, TREATMENT, CLINICAL_SCORE, SPASM_EPISODE, SPOOL_DROP})


@dataclass
class _Device:
    last_seen_ns: int
    offline_alerted: bool = False


class AlertEngine:
    """Consume records in time order and return the alerts they raise.

    Parameters
    ----------
    thresholds : AlertThresholds
        Rule thresholds and the cooldown.
    affected : mapping of str to iterable of str, optional
        Affected sides (``left``, ``right``) per patient known before the first record, from
        the whole history and config.toml (:func:`monitor.clinical.affected.stored_affected`). The
        engine learns more from the ``treatment`` records and ``affected=true`` spasm events
        it is given.

    Examples
    --------
    >>> engine = AlertEngine(AlertThresholds(tonic_max_s=30))
    >>> tags = {"patient": "p01", "device": "cf12", "kind": "tonic"}
    >>> [a.rule for a in engine.process(Record("spasm_event", 0, {"duration_s": 45.0}, tags))]
    ['tonic_spasm']
    """

    def __init__(
        self, thresholds: AlertThresholds | None = None, affected: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        self.thresholds = thresholds or AlertThresholds()
        self.now_ns: int | None = None
        self._devices: dict[tuple[str, str], _Device] = {}
        self._spikes: dict[str, SpikeBaseline] = {}
        # Patient -> affected sides; a patient absent has every limb counted (as the scores).
        self._affected: dict[str, set[str]] = {p: set(sides) for p, sides in (affected or {}).items()}
        self._wearing_off_told: set[tuple[str, str]] = set()  # (patient, injection) alerted
        # Times each key fired, ns: all of them (pruned to a week), not only the last, because a
        # record arriving out of order can raise an alert earlier than the latest one.
        self._fired_ns: dict[tuple[str, str, str], list[int]] = {}

    def process_all(self, records: Iterable[Record]) -> list[Alert]:
        """:meth:`process` over many records, in order."""
        return [alert for r in records for alert in self.process(r)]

    def process(self, record: Record) -> list[Alert]:
        """Update the state with one record; the alerts it raised (after the cooldown)."""
        if record.measurement == TREATMENT_RESPONSE:
            return self._wearing_off(record)
        if record.measurement in (TREATMENT, SPASM_EVENT):
            self._learn_affected(record)
        if record.measurement in _NOT_DEVICE_DATA:
            return []
        alerts = self.tick(record.time_ns)
        patient = record.tags.get("patient", "")
        device = record.tags.get("device", "")
        self._spike_state(patient).observe(record.time_ns)
        if device:
            state = self._devices.get((patient, device))
            if state is None or record.time_ns >= state.last_seen_ns:
                self._devices[(patient, device)] = _Device(record.time_ns)
        candidates: list[Alert] = []
        if record.measurement == SPASM_EVENT:
            candidates += self._spasm(record, patient, device)
        elif record.measurement == SIGNAL_QUALITY:
            candidates += self._poor_signal(record, patient, device)
        elif record.measurement == GAP:
            candidates += self._gap(record, patient, device)
        return alerts + self._cooled(candidates)

    def tick(self, now_ns: int) -> list[Alert]:
        """Advance the engine's clock to ``now_ns`` (never back); offline alerts that became due."""
        if self.now_ns is not None and now_ns <= self.now_ns:
            return []
        self.now_ns = now_ns
        limit_ns = round(self.thresholds.offline_max_min * NS_PER_MIN)
        due = []
        for (patient, device), state in self._devices.items():
            silent_ns = now_ns - state.last_seen_ns
            if not state.offline_alerted and silent_ns > limit_ns:
                state.offline_alerted = True
                due.append(self._offline(patient, device, state.last_seen_ns + limit_ns, silent_ns))
        return self._cooled(due)

    def forwarding(self, now_ns: int, stalled_s: float, patient: str, detail: str = "") -> list[Alert]:
        """The forward-stalled alert when points waited ``stalled_s`` past the limit.

        ``stalled_s`` is how long queued points have gone with nothing acknowledged (0 when
        nothing is queued); ``detail`` (the last error) goes into the message.
        """
        limit_h = self.thresholds.forward_stalled_h
        hours = stalled_s / 3600
        if hours <= limit_h:
            return []
        because = f": {detail}" if detail else ""
        return self._cooled(
            [
                Alert(
                    FORWARD_STALLED, now_ns, patient, "", hours, limit_h, "h",
                    f"nothing forwarded to InfluxDB for {hours:.1f} h (limit {limit_h:g} h){because};"
                    " the data is kept in the local spool",
                )
            ]
        )  # fmt: skip

    # -- rules -------------------------------------------------------------------------------

    def _spasm(self, record: Record, patient: str, device: str) -> list[Alert]:
        th = self.thresholds
        out = []
        duration_s = float(record.fields.get("duration_s", 0.0))
        if record.tags.get("kind") == "tonic" and duration_s > th.tonic_max_s:
            out.append(
                Alert(
                    TONIC_SPASM, record.time_ns + round(th.tonic_max_s * NS_PER_S), patient, device,
                    duration_s, th.tonic_max_s, "s",
                    f"tonic spasm lasting {duration_s:.0f} s (limit {th.tonic_max_s:g} s)"
                    + (f" at {record.tags['location']}" if "location" in record.tags else ""),
                )
            )  # fmt: skip
        side = record.tags.get("side", "")
        if not self._is_affected(patient, side):
            return out  # another limb's spasm: not what the scores and the Grafana rule count
        offset_ns = record.fields.get("offset_ns")
        end_ns = (
            int(offset_ns) if isinstance(offset_ns, int) else record.time_ns + round(duration_s * NS_PER_S)
        )
        check = self._spike_state(patient).spasm(record.time_ns, end_ns, side)
        if check is not None and check.fired:
            out.append(
                Alert(
                    SPASM_SPIKE, record.time_ns, patient, "", check.count, check.threshold, "spasms/h",
                    f"{check.count} spasms in the last hour; usual {check.baseline_mean:.1f}/h,"
                    f" alert from {check.threshold:.1f}",
                )
            )  # fmt: skip
        return out

    def _poor_signal(self, record: Record, patient: str, device: str) -> list[Alert]:
        limit_min = self.thresholds.poor_signal_max_min
        minutes = float(record.fields.get("duration_s", 0.0)) / 60
        if minutes <= limit_min:
            return []
        issue = record.tags.get("issue", "poor signal").replace("_", " ")
        channel = f" on channel {record.tags['channel']}" if "channel" in record.tags else ""
        return [
            Alert(
                POOR_SIGNAL, record.time_ns + round(limit_min * NS_PER_MIN), patient, device,
                minutes, limit_min, "min",
                f"{issue}{channel} for {minutes:.0f} min (limit {limit_min:g} min): check the electrodes",
            )
        ]  # fmt: skip

    def _gap(self, record: Record, patient: str, device: str) -> list[Alert]:
        limit_ns = round(self.thresholds.offline_max_min * NS_PER_MIN)
        gap_ns = round(float(record.fields.get("duration_s", 0.0)) * NS_PER_S)
        if gap_ns <= limit_ns:
            return []
        fired = self._fired_ns.get((DEVICE_OFFLINE, patient, device), [])
        if any(record.time_ns <= t <= record.time_ns + gap_ns for t in fired):
            return []  # this silence was already reported live
        return [self._offline(patient, device, record.time_ns + limit_ns, gap_ns)]

    def _offline(self, patient: str, device: str, time_ns: int, silent_ns: int) -> Alert:
        limit_min = self.thresholds.offline_max_min
        minutes = silent_ns / NS_PER_MIN
        return Alert(
            DEVICE_OFFLINE, time_ns, patient, device, minutes, limit_min, "min",
            f"no data from wearable {device} for {minutes:.0f} min (limit {limit_min:g} min)",
        )  # fmt: skip

    def _wearing_off(self, record: Record) -> list[Alert]:
        """``wearing_off``: a cycle's response record with a wearing-off day, once per injection.

        Response records are written again each time a cycle is re-scored; the clinic hears
        of one injection's wearing-off once (per engine), whatever the cooldown.
        """
        message = wearing_off_text(record.fields)
        patient, injection = record.tags.get("patient", ""), record.tags.get("injection", "")
        if message is None or (patient, injection) in self._wearing_off_told:
            return []
        self._wearing_off_told.add((patient, injection))
        day = float(record.fields["wearing_off_day"])
        pct = float(record.fields.get("wearing_off_pct", 0.0))
        return [
            Alert(
                WEARING_OFF, record.time_ns + round(day * 86_400 * NS_PER_S), patient, "", pct, 100.0, "%",
                f"{message} (injection of {injection})",
            )
        ]  # fmt: skip

    def spasms_by_hour(self, patient: str) -> dict[int, int]:
        """The spasms the spike rule counted per UTC hour (start, ns), over its baseline days."""
        spike = self._spikes.get(patient)
        hourly = spike.hourly if spike is not None else {}
        return {hour * NS_PER_H: n for hour, n in sorted(hourly.items()) if n}

    # -- helpers -----------------------------------------------------------------------------

    def _learn_affected(self, record: Record) -> None:
        for patient, sides in affected_limbs([record]).items():
            self._affected.setdefault(patient, set()).update(sides)

    def _is_affected(self, patient: str, side: str) -> bool:
        """The rule of :func:`monitor.clinical.events.episodes` for one limb."""
        known = self._affected.get(patient)
        return known is None or side == "" or side in known

    def _spike_state(self, patient: str) -> SpikeBaseline:
        if patient not in self._spikes:
            self._spikes[patient] = SpikeBaseline(self.thresholds)
        return self._spikes[patient]

    def _cooled(self, candidates: list[Alert]) -> list[Alert]:
        """Drop alerts whose key fired less than the cooldown before or after them."""
        cooldown_ns = round(self.thresholds.cooldown_min * NS_PER_MIN)
        out = []
        for alert in candidates:
            fired = self._fired_ns.setdefault(alert.key, [])
            if any(abs(alert.time_ns - t) < cooldown_ns for t in fired):
                continue
            keep_from_ns = alert.time_ns - cooldown_ns - _FIRED_MEMORY_NS
            fired[:] = [t for t in fired if t >= keep_from_ns] + [alert.time_ns]
            out.append(alert)
        return out
