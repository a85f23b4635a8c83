"""``spasm-monitor demo``: the whole system on its embedded default, with nothing to install.

Three emulated wearables run as separate processes on virtual BLE controllers (EMG on the
left calf, IMUs on the left thigh and shank), joined by the controller hub. The real
pipeline collects them over BLE for ``--live-s`` seconds (collector → DSP → spool, with
alerts). Alongside, in another process, a simulated treatment history (weeks of sampled
monitoring around a Botox injection and PT sessions) goes through the same Pipeline, configured
with the same wearables, offline.
Then the clinical scores, the patient report (one HTML file) and a short summary.
Everything is labelled simulated (tag ``source=simulated``). With ``--influx-url`` the
spool is also forwarded to an InfluxDB 1.x.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.clinical.cycle import WINDOWS
from monitor.commands.run import print_status
from monitor.config import AppConfig
from monitor.demo.wearables import DEMO_WEARABLES, demo_config
from monitor.errors import DeviceError, SpasmMonitorError, StoreError
from monitor.live import LiveResult, run_live
from monitor.store import Spool
from monitor.store.schema import SIMULATED_SOURCE

PATIENT = "demo"
# The live minute is labelled apart, as a patient of its own: the emulators spasm far more often
# than the simulated history (so that a user sees spasms within a minute), so in the history's
# patient it would be a day at ~600 spasms an hour, raising the latest Botox window's rate. It
# shows the BLE link working; `spasm-monitor report --patient demo-live` reports it alone.
LIVE_PATIENT = "demo-live"
FORWARD_TIMEOUT_S = 120.0
SIMULATED = {"source": SIMULATED_SOURCE}
# Options of the emulator of each of the demo's wearables (monitor.demo.wearables).
_EMULATOR_OPTIONS = {
    "calf": ["--emg-channels", "2", "--seed", "11"],
    "thigh": ["--segment", "proximal", "--motion-seed", "7"],
    "shank": ["--segment", "distal", "--motion-seed", "7"],
}
# The emulated home: (placement, options of its emulator, the [[device]] keys), in the order
# the emulators are numbered; the simulated history runs through the same wearables.
WEARABLES: tuple[tuple[str, list[str], dict[str, str]], ...] = tuple(
    (w.placement, _EMULATOR_OPTIONS[w.placement], w.keys) for w in DEMO_WEARABLES
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="emulated wearables over BLE + a simulated treatment history → store, report, summary"
    )
    demo.add_argument("--live-s", type=float, default=60.0, help="live collection period, s (default 60)")
    demo.add_argument("--weeks", type=int, default=6, help="weeks of simulated history (default 6)")
    demo.add_argument("--injection-week", type=int, default=2, help="week of the Botox injection (default 2)")
    demo.add_argument("--windows-per-day", type=int, default=3, help="sampled 10-min EMG windows a day")
    demo.add_argument("--timezone", default="Europe/London", help="the simulated patient's timezone")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", type=Path, default=Path("out"), help="folder for spool.sqlite and report.html")
    demo.add_argument("--influx-url", help="also forward everything to this InfluxDB 1.x")
    demo.add_argument("--influx-database", default="spasm", help="its database, created if missing")
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.live_s <= 0 or args.weeks < 1 or not 0 <= args.injection_week < args.weeks:
        raise ValueError("need --live-s > 0, --weeks >= 1 and 0 <= --injection-week < --weeks")
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    spool_path = args.out / "spool.sqlite"
    for stale in (spool_path, Path(f"{spool_path}-wal"), Path(f"{spool_path}-shm")):
        stale.unlink(missing_ok=True)  # each demo run starts a fresh local store
    zone = ZoneInfo(args.timezone)
    today = dt.datetime.now(zone).date()
    history_start = today - dt.timedelta(weeks=args.weeks)
    print(
        "SIMULATED DATA: emulated wearables and a simulated patient; nothing here is a measurement.",
        file=sys.stderr,
    )
    last_day_after = 7 * (args.weeks - args.injection_week) - 1
    if last_day_after < WINDOWS[1][1]:
        print(
            f"note: the history's last day is day {last_day_after} after the injection and the report's"
            f" first window after it begins on day {WINDOWS[1][1]}, so no Botox effect will show;"
            f" --weeks {args.injection_week + 4} shows its first four weeks",
            file=sys.stderr,
        )
    with _history_worker() as pool:
        history = pool.submit(
            build_history,
            str(spool_path),
            history_start,
            args.weeks,
            args.injection_week,
            args.windows_per_day,
            args.seed,
            args.timezone,
        )
        live = _run_emulated_home(args, spool_path)
        print("live part done; waiting for the simulated history...", file=sys.stderr, flush=True)
        summary = history.result()
    report_path, report = _write_report(spool_path, args.out / "report.html", args.timezone)
    forwarded = _forward(spool_path, args.influx_url, args.influx_database) if args.influx_url else None
    _print_summary(live, summary, report, report_path, spool_path, forwarded, time.monotonic() - started)
    return 0


def embedded_config(transport: str, spool_path: Path, timezone: str) -> AppConfig:
    """The demo's config.toml, in code: the demo's wearables, emulated on the hub, worn by
    :data:`LIVE_PATIENT` (the live minute, apart from the simulated history's patient)."""
    return demo_config(
        LIVE_PATIENT,
        timezone,
        ble={"backend": "bumble", "transport": transport, "scan_timeout_s": 5.0},
        store={"spool_path": str(spool_path)},
    )


def _run_emulated_home(args: argparse.Namespace, spool_path: Path) -> LiveResult:
    from emulators.process import start_emulated

    print(f"starting {len(WEARABLES)} emulated wearables on virtual BLE controllers...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="spasm-demo-") as stats_dir:
        try:
            emulated = start_emulated(len(WEARABLES), Path(stats_dir), options=[w[1] for w in WEARABLES])
        except (TimeoutError, RuntimeError) as error:
            raise DeviceError(f"the emulated wearables did not start: {error}") from None
        try:
            config = embedded_config(emulated.collector_transport, spool_path, args.timezone)
            spool = Spool(spool_path)
            print(
                f"collecting them over BLE for {args.live_s:g} s (the emulated knee is calibrated from its"
                " first seconds; at home `spasm-monitor calibrate` does it once, guided)...",
                file=sys.stderr,
                flush=True,
            )
            return asyncio.run(
                run_live(
                    config,
                    spool,
                    duration_s=args.live_s,
                    extra_tags=SIMULATED,
                    on_status=print_status,
                    calibrations={},
                )
            )
        finally:
            emulated.stop()


def _history_worker() -> concurrent.futures.ProcessPoolExecutor:
    """One process for the simulated history, so it runs beside the live part."""
    spawn = multiprocessing.get_context("spawn")
    try:
        return concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn, initializer=_die_with_demo)
    except OSError as error:  # its locks live in /dev/shm, which a chroot or container may deny
        raise SpasmMonitorError(
            f"cannot start the demo's history worker: {error.strerror or error}",
            "Python's multiprocessing needs a writable /dev/shm (mode 1777)",
        ) from None


def _die_with_demo() -> None:
    """In the history worker: end when the demo does, even by ``kill -9`` (no orphan writes on).

    The hub and emulators get the same from :func:`emulators.process.spawn`.
    """
    from emulators.process import exit_with_parent

    parent = multiprocessing.parent_process()
    if parent is not None:
        exit_with_parent(parent.sentinel)


def build_history(
    spool_path: str,
    start_date: dt.date,
    weeks: int,
    injection_week: int,
    windows_per_day: int,
    seed: int,
    timezone: str,
) -> Any:
    """Build the simulated history into the spool file (runs in its own process)."""
    from monitor.demo.history import build_history_file

    return build_history_file(
        spool_path,
        start_date=start_date,
        weeks=weeks,
        injection_week=injection_week,
        windows_per_day=windows_per_day,
        seed=seed,
        patient=PATIENT,
        timezone=timezone,
        progress=_history_progress,
    )


def _history_progress(done: int, total: int) -> None:
    if done % 7 == 0 or done == total:
        print(f"simulated history: day {done}/{total}", file=sys.stderr, flush=True)


def _write_report(spool_path: Path, out_path: Path, timezone: str) -> tuple[Path, Any]:
    """The report file, and its data: the terminal summary prints the report's own numbers."""
    from monitor.report import build_report, write_report

    data = build_report(spool_path, patient=PATIENT, timezone=timezone, simulated=True)
    return write_report(data, out_path), data


def _forward(spool_path: Path, url: str, database: str) -> str:
    """Forward the whole spool to an InfluxDB 1.x, creating the database; a bounded wait."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from monitor.store import InfluxV1Writer
    from monitor.store.forwarder import Forwarder
    from monitor.store.influxql import quote_ident

    query = urllib.parse.urlencode({"q": f"CREATE DATABASE {quote_ident(database)}"}).encode()
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/query", data=query, timeout=10) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace").strip()
        raise StoreError(f"InfluxDB at {url} refused CREATE DATABASE ({error.code}): {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise StoreError(f"InfluxDB at {url} is not reachable: {error}") from None
    refused = [r["error"] for r in answer.get("results", []) if "error" in r]
    if refused:  # a name InfluxDB does not allow (a '/' or '\\') comes back as 200 with an error
        raise StoreError(
            f"InfluxDB at {url} refused database {database!r}: {refused[0]}", "choose another name"
        )

    async def drain() -> str:
        forwarder = Forwarder(spool_path, InfluxV1Writer(url, database))
        try:
            stats = await asyncio.wait_for(forwarder.drain(), FORWARD_TIMEOUT_S)
        except TimeoutError:
            return (
                f"InfluxDB at {url} did not take everything within {FORWARD_TIMEOUT_S:g} s;"
                " the rest stays in the spool"
            )
        finally:
            await forwarder.close()
        return f"{stats.sent_points:,} points forwarded to {url} (database {database})"

    return asyncio.run(drain())


def _print_summary(
    live: LiveResult,
    history: Any,
    report: Any,
    report_path: Path,
    spool_path: Path,
    forwarded: str | None,
    wall_s: float,
) -> None:
    from monitor.clinical.enough import too_little_text
    from monitor.demo.summary import summary_lines

    print()
    print("spasm-monitor demo: SIMULATED patient and wearables")
    samples = sum(live.pipeline.samples.values())
    found = live.pipeline.records
    print(
        f"  live over BLE: {len(live.sessions)} emulated wearables for {live.duration_s:.0f} s,"
        f" {samples:,} samples, {found['ble_gap']} gap record(s),"
        # Detector rows (one per channel and IMU); spasms, one per limb episode, are below.
        f" {found['spasm_event']} detector event(s), {found['rom']} ROM record(s)"
    )
    print(
        f"    (stored as patient {LIVE_PATIENT}: the emulators' spasm rate is not the simulated patient's,"
        f" so the live {live.duration_s:.0f} s are not a day of {PATIENT}'s history)"
    )
    # The report's numbers (ReportData), not a second computation: the terminal and the
    # report say the same thing.
    measured = report.injections[0].pre_post if report.injections else None
    for line in summary_lines(history, measured):
        print(f"  {line}")
    print(f"  {_botox_effect_line(report)}")
    rate = (
        f"{report.spasms_per_h:.2f}"
        if report.spasms_per_h is not None
        else too_little_text(3600.0 * report.coverage.monitored_h)
    )
    print(
        f"  whole period: {report.spasms} spasms, {rate} per observed hour"
        f" ({report.coverage.monitored_h:.1f} h observed on {len(report.days)} days)"
    )
    if report.days:
        last = report.days[-1]
        snow = last.snow_frequency if last.snow_frequency is not None else last.snow_note
        penn = last.penn_frequency if last.penn_frequency is not None else f"not scored ({last.rate_note})"
        print(
            f"  latest day ({last.date}): {last.spasms} spasms in {last.observed_s / 60:.0f} min observed,"
            f" EMG-derived Penn frequency {penn},"
            f" Penn severity {'-' if last.penn_severity is None else last.penn_severity}, Snow {snow}"
        )
    print(f"  alerts: {len(live.alerts)} during the live run, {len(report.alerts)} in the store")
    if forwarded:
        print(f"  {forwarded}")
    print(f"  store: {spool_path}")
    print(f"  report: {report_path.resolve()}")
    print(f"  wall time {wall_s:.0f} s")


def _botox_effect_line(report: Any) -> str:
    """The report's headline on the latest injection (its cycle table), in one line."""
    from monitor.report.cycles import latest_change

    change = latest_change(report.cycles)
    if change is None:
        return "Botox effect (report): no injection in the history"
    if change.window is None:
        first_day = WINDOWS[1][1]
        return (
            f"Botox effect (report): none to state yet: the {change.injection} injection has no observed"
            f" day from day {first_day} after it, where the report's first window begins"
        )
    w = change.window
    days = f"days {change.first_day}-{change.last_day} after the {change.injection} injection"
    if w.ratio != w.ratio:  # NaN: too few observed days on a side
        return f"Botox effect (report): {days}: not enough worn time to tell"
    return (
        f"Botox effect (report): {days}: {w.per_h:.1f} vs {change.baseline.per_h:.1f} spasms per"
        f" observed hour, rate ratio {w.ratio:.2f} (95 % CI {w.ci_low:.2f}-{w.ci_high:.2f}): {change.verdict}"
    )
