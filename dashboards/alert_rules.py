"""The four alert rules of ``monitor.alerts`` as Grafana alert rules, thresholds from ``AlertThresholds``.

Each rule queries InfluxQL per ``patient`` (and ``device`` where a device is at fault), reduces
each series to one number with server-side expressions, and fires when a math expression is
true. ``alert_rules`` gives the provisioning API's JSON; ``alert_rules_provisioning`` the file.

Spasms are counted as the rest of the product counts them: ``spasm_episode`` records (one per
limb episode, however many EMG channels and wearables saw it) and the hourly ``clinical_score``
records (one per observed local hour), never ``spasm_event`` rows. No rule reads missing data
as a value: a query that returns nothing leaves its rule OK or in Grafana's own NoData state,
never Alerting.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grafana_foundation_sdk.builders import alerting
from grafana_foundation_sdk.builders import expr as expr_builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting as alerting_models
from grafana_foundation_sdk.models import dashboard

from dashboards.influxql import InfluxQL
from dashboards.provisioning import CONTACT_POINT, FOLDER_UID, ProvisioningSettings
from monitor.alerts.thresholds import AlertThresholds

RULE_GROUP = "spasm-monitor"
# How far back the device-offline rule sees a device at all: a device silent for longer has
# dropped out of the query, and only "every device silent" (no data) still alerts.
OFFLINE_LOOKBACK_S = 86400
EVALUATION_INTERVAL_S = 60
_EXPR = "__expr__"  # Grafana's server-side expression datasource
BY_PATIENT = '$timeFilter GROUP BY "patient"'
BY_DEVICE = '$timeFilter GROUP BY "patient", "device"'


def alert_rules(thresholds: AlertThresholds, settings: ProvisioningSettings) -> list[dict[str, Any]]:
    """The rules as the alerting provisioning API (``/api/v1/provisioning/alert-rules``) takes them."""
    ds = settings.default_datasource_uid
    t = thresholds
    baseline_s = round(t.spike_baseline_days * 86400)
    offline_min = max(1, math.ceil(t.offline_max_min))  # whole 1-minute buckets
    # The spike rule decides as monitor.alerts.spike does: the spasms of the last hour against
    # mean + max(k·σ, min_count) of the patient's observed hours before it. Spasms are episodes
    # (a spasm seen by two EMG channels and an IMU is one), as stored by monitor.clinical: the
    # last hour's spasm_episode records of the affected limbs, which is what the hourly scores
    # count. The baseline is the hourly clinical_score points (one per observed local hour,
    # with its spasm count; an unworn hour has no point, so it is no data, never a calm 0),
    # ending an hour before the last hour began, so that the spike does not raise its own bar.
    # From their count o, sum s and sum of squares q: mean = s/o and variance = q/o - mean²
    # (the population variance, as the home engine's numpy std). Where the two can differ: the
    # home engine calls a UTC hour observed when any record fell in it, this rule when the
    # scores give it observed time; both count the affected limbs' episodes. In a whole-hour
    # time zone they agree. A live run stores each episode as it closes (monitor.clinical.
    # closing: minutes after the spasm, about 4 with the default [dsp]), so this rule sees a
    # spike minutes late, where the baseline's hourly scores follow once an hour.
    last_hour = f'FROM "spasm_episode" WHERE "affected" = true AND {BY_PATIENT}'
    hours = 'FROM "clinical_score" WHERE "period" = \'hour\' AND $timeFilter'
    squares = f'FROM (SELECT "spasms" * "spasms" AS "sq" {hours})'
    mean = "($s / $o)"
    excess = f"($a - {mean})"
    spike = (
        f"$o >= {t.spike_min_baseline_h:g} && {excess} >= {t.spike_min_count} && "
        f"{excess} * {excess} >= {t.spike_sigma**2:g} * ($q / $o - {mean} * {mean})"
    )
    rules = [
        _rule(
            "spasm-rate-spike", "Spasm-rate spike", ds,
            {
                "A": (f'SELECT count("duration_s") {last_hour}', 3600),
                "O": (f'SELECT count("spasms") {hours} GROUP BY "patient"', (baseline_s, 7200)),
                "S": (f'SELECT sum("spasms") {hours} GROUP BY "patient"', (baseline_s, 7200)),
                "Q": (f'SELECT sum("sq") {squares} GROUP BY "patient"', (baseline_s, 7200)),
            },
            reducers={"a": ("A", "sum"), "o": ("O", "last"), "s": ("S", "last"), "q": ("Q", "last")},
            condition=spike,
            summary=(
                f"Spasms in the last hour reach the patient's {t.spike_baseline_days:g}-day hourly baseline "
                f"plus {t.spike_sigma:g}σ and plus at least {t.spike_min_count}"
            ),
            no_data="OK",  # no episode in the last hour, or no observed hour: nothing to alert on
            cooldown_min=t.cooldown_min,
        ),
        _rule(
            "spasm-tonic-prolonged", "Prolonged tonic spasm", ds,
            {"A": ('SELECT max("duration_s") FROM "spasm_event" WHERE "kind" = \'tonic\' AND $timeFilter '
                   'GROUP BY "patient"', 600)},
            reducers={"a": ("A", "max")},
            condition=f"$a > {t.tonic_max_s:g}",
            summary=f"A tonic spasm lasted longer than {t.tonic_max_s:g} s",
            no_data="OK",
            cooldown_min=t.cooldown_min,
        ),
        # A device that stops sending leaves no series in a query over the last M minutes (and
        # Grafana resolves a vanished series instead of alerting), so look back a day, count
        # per minute with fill(0), and take the moving average over the last M minutes: it is
        # 0 exactly when a device seen today has been silent that long. ``coverage`` is written
        # per stream and minute by every wearable, whether it measures EMG, motion or both.
        _rule(
            "spasm-device-offline", "Device offline", ds,
            {"A": (f'SELECT moving_average(count("covered_s"), {offline_min}) FROM "coverage" '
                   'WHERE $timeFilter GROUP BY time(1m), "patient", "device" fill(0)', OFFLINE_LOOKBACK_S)},
            reducers={"a": ("A", "last")},
            condition="$a <= 0",
            summary=f"No data from the device for more than {t.offline_max_min:g} min",
            # Every device silent for a day: the query returns nothing at all. That is no data,
            # not an offline device with a value: Grafana's NoData state raises its own
            # DatasourceNoData alert, so the clinic still hears of it, labelled as what it is.
            no_data="NoData",
            cooldown_min=t.cooldown_min,
        ),
        # Unusable-EMG stretches are stamped at onset: look back two windows so a stretch that
        # began before the window is still counted.
        _rule(
            "spasm-poor-signal", "Electrode off or poor signal", ds,
            {"A": (f'SELECT sum("duration_s") FROM "signal_quality" WHERE {BY_DEVICE}',
                   round(2 * t.poor_signal_max_min * 60))},
            reducers={"a": ("A", "sum")},
            condition=f"$a > {t.poor_signal_max_min * 60:g}",
            summary=f"Electrode off or poor signal for more than {t.poor_signal_max_min:g} min",
            no_data="OK",
            cooldown_min=t.cooldown_min,
        ),
    ]  # fmt: skip
    return rules


def alert_rules_provisioning(thresholds: AlertThresholds, settings: ProvisioningSettings) -> dict[str, Any]:
    """``provisioning/alerting/*.yaml`` holding the rule group."""
    api_only = {"folderUID", "ruleGroup", "orgID"}
    rules = [
        {k: v for k, v in rule.items() if k not in api_only} for rule in alert_rules(thresholds, settings)
    ]
    group = {"orgId": 1, "name": RULE_GROUP, "folder": FOLDER_UID, "interval": f"{EVALUATION_INTERVAL_S}s"}
    group["rules"] = rules
    return {"apiVersion": 1, "groups": [group]}


def _rule(
    uid: str,
    title: str,
    datasource_uid: str,
    queries: dict[str, tuple[str, int | tuple[int, int]]],
    reducers: dict[str, tuple[str, str]],
    condition: str,
    summary: str,
    no_data: str,
    cooldown_min: float,
) -> dict[str, Any]:
    rule = (
        alerting.Rule(title)
        .uid(uid)
        .folder_uid(FOLDER_UID)
        .rule_group(RULE_GROUP)
        .org_id(1)
        .condition("C")
        .for_val("0s")
        .exec_err_state("Error")
        .no_data_state(no_data)  # type: ignore[arg-type]
        .labels({"source": "spasm-monitor", "rule": uid})
        .annotations({"summary": summary})
        .notification_settings(
            # Grafana's counterpart of the home-side cooldown: one notification per rule and
            # patient (and device) until the cooldown has passed, however many spasms follow.
            alerting.NotificationSettings()
            .receiver(CONTACT_POINT)
            .group_by(["alertname", "grafana_folder", "patient", "device"])
            .repeat_interval(f"{cooldown_min:g}m")
        )
    )
    for ref_id, (query, time_range_s) in queries.items():
        # Seconds back from now: one number is "from then to now", a pair is (from, to).
        from_s, to_s = time_range_s if isinstance(time_range_s, tuple) else (time_range_s, 0)
        rule = rule.with_query(
            alerting.Query(ref_id)
            .datasource_uid(datasource_uid)
            .relative_time_range(alerting_models.RelativeTimeRange(from_val=from_s, to=to_s))
            .model(InfluxQL(query).ref_id(ref_id).result_format("time_series"))
        )
    expr_ref = dashboard.DataSourceRef(type_val=_EXPR, uid=_EXPR)
    for ref_id, (source, reducer) in reducers.items():
        reduce = expr_builders.TypeReduce().ref_id(ref_id).expression(source).reducer(reducer)  # type: ignore[arg-type]
        rule = rule.with_query(
            alerting.Query(ref_id).datasource_uid(_EXPR).model(reduce.datasource(expr_ref))
        )
    math = expr_builders.TypeMath().ref_id("C").expression(condition).datasource(expr_ref)
    rule = rule.with_query(alerting.Query("C").datasource_uid(_EXPR).model(math))
    built: dict[str, Any] = json.loads(json.dumps(rule.build(), cls=JSONEncoder))
    return built
