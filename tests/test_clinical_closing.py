"""Episodes written as they close equal the batch's, once each (issue 14: the Grafana rule's lag).

A live run writes each ``spasm_episode`` once no event can join it any more
(:mod:`monitor.clinical.closing`) instead of at the hour's scoring; the points must be those
:func:`~monitor.clinical.events.episode_records` gives over the same events, whatever order
and delay the detectors report them in, and the hourly scoring must not write them again.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.clinical import score_spool
from monitor.clinical.closing import EpisodeCloser
from monitor.clinical.events import episode_records
from monitor.store import Spool
from monitor.types import NS_PER_S, FieldValue, Record

T0_NS = 1_764_028_800 * NS_PER_S  # 2025-11-25 00:00 UTC
SETTLE_S = 30.0
KINDS = ("tonic", "clonus", "myoclonus", "movement")


def _event(onset_s: float, duration_s: float, side: str, kind: str, channel: int = 0) -> Record:
    tags = {"patient": "p01", "side": side, "kind": kind, "channel": str(channel)}
    fields: dict[str, FieldValue] = {"duration_s": duration_s, "peak_x_baseline": 5.0 + duration_s}
    return Record("spasm_event", T0_NS + round(onset_s * NS_PER_S), fields, tags)


def _points(records: list[Record]) -> list[tuple[object, ...]]:
    return sorted((r.time_ns, sorted(r.tags.items()), sorted(r.fields.items())) for r in records)


events_st = st.lists(
    st.tuples(
        st.floats(0.0, 600.0),  # onset, s
        st.floats(0.1, 20.0),  # duration, s
        st.sampled_from(("left", "right")),
        st.sampled_from(KINDS),
        st.floats(0.0, 1.0),  # when the detector reports it: 0 at its end, 1 at onset + SETTLE_S
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(events_st, st.booleans())
def test_closed_episodes_are_the_batchs_whatever_the_report_order(
    drawn: list[tuple[float, float, str, str, float]], injected_left: bool
) -> None:
    botox = Record(
        "treatment", T0_NS - NS_PER_S, {"dose_u": 100.0}, {"patient": "p01", "kind": "botox", "side": "left"}
    )
    events = [_event(on, d, side, kind, i) for i, (on, d, side, kind, _) in enumerate(drawn)]
    known = {"p01": {"left"}} if injected_left else None
    closer = EpisodeCloser(SETTLE_S, known_affected=known)
    written: list[Record] = []
    # Reported in the order the detectors finish them, after the event's end and at most
    # SETTLE_S after its onset, with the data clock at that moment (limbs and channels mixed).
    reports = sorted(
        ((on + d + late * (SETTLE_S - d), e) for (on, d, _, _, late), e in zip(drawn, events, strict=True)),
        key=lambda x: x[0],
    )
    for reported_s, event in reports:
        closer.advance(T0_NS + round(reported_s * NS_PER_S))
        closer.add([event])
        written += closer.closed()
    written += closer.close_all()
    batch = episode_records(events + ([botox] if injected_left else []))
    assert _points(written) == _points(batch)  # each episode once, with its final kind
    assert closer.late == 0


def test_an_episode_is_written_only_once_nothing_can_join_it() -> None:
    closer = EpisodeCloser(SETTLE_S)
    closer.add([_event(100.0, 2.0, "left", "tonic")])  # ends at 102 s
    closer.advance(T0_NS + round((102.0 + 1.0 + SETTLE_S) * NS_PER_S))  # an event may still join
    assert closer.closed() == []
    closer.add([_event(102.5, 1.0, "left", "clonus", channel=1)])  # it does: now "mixed", to 103.5 s
    closer.advance(T0_NS + round((103.5 + 1.0 + SETTLE_S) * NS_PER_S) + 1)
    (episode,) = closer.closed()
    assert (episode.time_ns, episode.tags["kind"], episode.fields["events"]) == (
        T0_NS + 100 * NS_PER_S,
        "mixed",
        2,
    )
    assert closer.closed() == []  # written once


def test_a_late_event_of_a_written_episode_is_counted_in_it_not_written_again() -> None:
    closer = EpisodeCloser(SETTLE_S)
    closer.add([_event(100.0, 2.0, "left", "tonic")])
    closer.advance(T0_NS + 200 * NS_PER_S)
    (episode,) = closer.closed()
    # A wearable that held an event across a disconnection reports it at its reconnect.
    closer.add([_event(101.0, 0.4, "left", "movement"), _event(150.0, 1.0, "left", "tonic")])
    closer.advance(T0_NS + 300 * NS_PER_S)
    (later,) = closer.closed()  # the late event joins nothing: an episode of its own
    assert closer.late == 1
    assert (episode.time_ns, later.time_ns) == (T0_NS + 100 * NS_PER_S, T0_NS + 150 * NS_PER_S)


def test_hourly_scoring_leaves_the_runs_episodes_to_it_and_writes_others_once(tmp_path: Path) -> None:
    run_start_ns = T0_NS + 1800 * NS_PER_S
    replayed = [_event(600.0, 2.0, "left", "tonic"), _event(900.0, 3.0, "left", "clonus")]
    live = [_event(2000.0, 2.0, "left", "tonic"), _event(2001.5, 1.0, "left", "clonus", channel=1)]
    observed = Record("observation", T0_NS, {"duration_s": 3600.0}, {"patient": "p01"})
    closer = EpisodeCloser(SETTLE_S)
    closer.add(live)
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append([*replayed, *live, observed, *closer.close_all()])  # the run wrote its own
        for _ in range(2):  # two hourly scorings of the same day
            spool.append(
                score_spool(spool, T0_NS, T0_NS + 3600 * NS_PER_S, "UTC", episodes_before_ns=run_start_ns)
            )
        scored = score_spool(spool, T0_NS, T0_NS + 3600 * NS_PER_S, "UTC", episodes_before_ns=run_start_ns)
        stored = spool.query(0, 2**62, measurement="spasm_episode")
    assert not [r for r in scored if r.measurement == "spasm_episode"]  # nothing written twice
    # The replayed spasms' episodes were written by the scoring, the run's by the run: as a batch has them.
    assert _points(stored) == _points(episode_records(replayed + live))
    assert [r.tags["kind"] for r in stored] == ["tonic", "clonus", "mixed"]
