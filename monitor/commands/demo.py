"""``spasm-monitor demo``: simulated wearable EMG through the streaming detector."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from monitor.clinical.scores import score_spool
from monitor.dsp import SpasmDetector
from monitor.store import Spool
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

FRAME_S = 0.1  # a BLE notification carries about this much EMG
DEMO_T0_NS = 1_764_000_000 * NS_PER_S


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="stream simulated wearable EMG through the detector and summarise the spasms"
    )
    demo.add_argument("--minutes", type=float, default=10.0, help="length of the simulated recording")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--snr-db", type=float, default=20.0)
    demo.add_argument("--rate-hz", type=float, default=1000.0, help="1000 (reference wearable) or 200 (Myo)")
    demo.add_argument("--channels", type=int, default=2)
    demo.add_argument(
        "--out", type=Path, default=Path("out"), help="folder for the local store (spool.sqlite)"
    )
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    scenario = EmgScenario(
        sample_rate_hz=args.rate_hz, channels=args.channels, duration_s=args.minutes * 60,
        seed=args.seed, snr_db=args.snr_db,
    )  # fmt: skip
    print(
        f"SIMULATED: {args.minutes:g} min of {args.channels}-channel {args.rate_hz:g} Hz EMG"
        f" (seed {args.seed}, {args.snr_db:g} dB) with artefacts, streamed in {FRAME_S * 1000:.0f} ms frames"
    )
    rec = generate_emg(scenario, t0_ns=DEMO_T0_NS)
    detector = SpasmDetector(args.rate_hz, args.channels, tags={"patient": "demo", "device": "simulated"})
    step = round(FRAME_S * args.rate_hz)
    stream = StreamId("simulated", "emg")
    records: list[Record] = []
    for start in range(0, rec.emg_mv.shape[0], step):
        chunk = rec.emg_mv[start : start + step]
        t0 = DEMO_T0_NS + round(start * NS_PER_S / args.rate_hz)
        records += detector.process(Frame(stream, SensorKind.EMG, args.rate_hz, t0, start, start, chunk))
    records += detector.flush()

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "spool.sqlite"
    path.unlink(missing_ok=True)  # each demo run starts a fresh local store
    spool = Spool(path)
    spool.append(records)
    end_ns = DEMO_T0_NS + round(args.minutes * 60 * NS_PER_S)
    scores = score_spool(spool, DEMO_T0_NS, end_ns)
    spool.append(scores)

    events = [r for r in records if r.measurement == "spasm_event"]
    hours = args.minutes / 60
    print(
        f"spasms found: {len(events)} ({len(events) / hours:.1f} per hour);"
        f" simulated truth: {len(rec.spasms)}"
    )
    for kind, count in sorted(Counter(str(e.tags["kind"]) for e in events).items()):
        durations = [float(e.fields["duration_s"]) for e in events if e.tags["kind"] == kind]
        print(f"  {kind:9s} {count:4d}  mean duration {sum(durations) / len(durations):5.1f} s")
    clonus = [float(e.fields["clonus_hz"]) for e in events if "clonus_hz" in e.fields]
    if clonus:
        print(f"  clonus rhythm {min(clonus):.1f}-{max(clonus):.1f} Hz")
    issues = Counter(str(r.tags["issue"]) for r in records if r.measurement == "signal_quality")
    print("signal quality: " + (", ".join(f"{k} x{v}" for k, v in sorted(issues.items())) or "clean"))
    for day in (r for r in scores if r.tags["period"] == "day"):
        print(
            f"clinical scores (the {float(day.fields['observed_hours']):.0f} observed hour(s)):"
            f" Penn frequency {day.fields.get('penn_frequency', '-')},"
            f" Penn severity {day.fields.get('penn_severity', '-')},"
            f" Snow {day.fields['snow_frequency']} ({day.fields['spasms']} spasms, overlapping channels once)"
        )
    print(f"{len(records) + len(scores)} records in the local store {path}")
    return 0
