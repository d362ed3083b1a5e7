"""The aggregator's copy of the pool's alert state (`poolmon.alert.state` events)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from poolmon.core import catalog as C
from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event
from poolmon.core.snapshot import PoolInfo
from poolmon.testing.alert_samples import NS, alert_state_event, sample_view
from poolmon.testing.clock import ManualClock


@pytest.fixture
def agg() -> Aggregator:
    clock = ManualClock()
    agg = Aggregator(clock)
    agg.set_pool_info(PoolInfo(name="demo", pid=4242, host="h", started_at_ns=clock.time_ns()))
    return agg


def test_no_alert_state_is_none_not_empty(agg: Aggregator) -> None:
    snap = agg.snapshot(60)
    assert snap.alerts is None
    assert snap.alert_views_malformed == 0


def test_view_arrives_in_the_snapshot(agg: Aggregator) -> None:
    view = sample_view(agg.clock.time_ns())
    agg.ingest_event(alert_state_event(view))
    snap = agg.snapshot(60)
    assert snap.alerts == view
    states = sorted(a.display_state for a in snap.alerts.alerts)
    assert states == ["acked", "firing", "firing", "pending", "silenced"]


def test_highest_revision_wins(agg: Aggregator) -> None:
    now = agg.clock.time_ns()
    newer = sample_view(now, revision=9)
    older = replace(sample_view(now, revision=8), alerts=())
    agg.ingest_event(alert_state_event(newer))
    agg.ingest_event(alert_state_event(older))  # e.g. a backfilled copy after a live update
    assert agg.snapshot(60).alerts == newer
    assert agg.alert_state.stale == 1
    resent = replace(newer, evaluated_at_ns=now + NS)  # the periodic resend: same revision
    agg.ingest_event(alert_state_event(resent))
    assert agg.snapshot(60).alerts == resent
    later = replace(newer, revision=10, alerts=newer.alerts[:1])
    agg.ingest_event(alert_state_event(later))
    assert agg.snapshot(60).alerts == later


@pytest.mark.parametrize("how", ["new_pid", "new_start", "pool_init"])
def test_a_new_pool_instance_resets_the_view(agg: Aggregator, how: str) -> None:
    now = agg.clock.time_ns()
    agg.ingest_event(alert_state_event(sample_view(now, revision=50)))
    if how == "pool_init":
        agg.ingest_event(Event(C.POOL_INIT, now + NS, {"size": 4}, {"pool": "demo", "pid": 5000}))
    else:
        info = agg.pool
        agg.set_pool_info(
            replace(info, pid=5000) if how == "new_pid" else replace(info, started_at_ns=now + NS)
        )
    assert agg.snapshot(60).alerts is None  # the old pool's alerts are not the new one's
    fresh = sample_view(now + 2 * NS, revision=1)  # a restarted pool numbers afresh
    agg.ingest_event(alert_state_event(fresh))
    assert agg.snapshot(60).alerts == fresh


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "not a map",
        {"pool": "demo"},
        {**sample_view(0).to_wire(), "revision": "x"},
        {**sample_view(0).to_wire(), "alerts": [{"id": "a"}]},
        {
            **sample_view(0).to_wire(),
            "alerts": [{**sample_view(0).alerts[0].to_wire(), "state": "on"}],
        },
    ],
)
def test_malformed_view_is_counted_and_ignored(agg: Aggregator, bad: object) -> None:
    good = sample_view(agg.clock.time_ns())
    agg.ingest_event(alert_state_event(good))
    agg.ingest_event(Event(C.ALERT_STATE, agg.clock.time_ns(), {"revision": 99}, {"view": bad}))
    snap = agg.snapshot(60)
    assert snap.alerts == good
    assert snap.alert_views_malformed == 1
