"""WorkerCrashLoop counts abnormal exits per pool slot, as a poolmon pool replaces workers.

A poolmon pool gives every replacement worker a new id in the dead worker's slot, so a crash
loop is three exits of three different worker ids in one slot. The events here are what the
pool emits (`poolmon.worker.exit` and `.spawn` with `slot`), fed to the real aggregator over a
synthetic healthy pool.
"""

from __future__ import annotations

from alert_engine_helpers import Run, rules

from poolmon.core import catalog as C
from poolmon.core.alerts.defaults import CRASH_LOOP
from poolmon.core.alerts.metrics import MetricMemory, MetricReader
from poolmon.core.alerts.model import FIRING
from poolmon.core.events import Event
from poolmon.testing.pool_feed import PoolKnobs

NS = 1_000_000_000


def _exit_and_replace(run: Run, wid: int, new_wid: int, slot: int | None, *, said: bool) -> None:
    """Worker `wid` crashed half a second ago; `new_wid` took its slot (`said`: the exit names
    its slot, as pools do now; else only the spawns do, as older pools did)."""
    at = run.now - NS // 2
    meta = {"pool": "test", "worker_id": wid, "pid": 3000 + wid, "reason": "crash"}
    if said:
        meta["slot"] = slot
    run.feed.agg.ingest_event(Event(C.WORKER_EXIT, at, {"lifetime_ns": NS}, meta))
    spawn = {"pool": "test", "worker_id": new_wid, "pid": 3000 + new_wid, "reason": "replace"}
    if slot is not None:
        spawn["slot"] = slot
    run.feed.agg.ingest_event(Event(C.WORKER_SPAWN, at + 1000, {}, spawn))


def test_three_crashes_in_one_slot_by_three_worker_ids_fire_with_the_slot_in_the_labels() -> None:
    run = Run(rules(CRASH_LOOP), PoolKnobs(workers=4))
    run.step(60)
    _exit_and_replace(run, 1, 10, None, said=False)  # worker 1's slot is never said
    for wid, new in ((10, 11), (11, 12), (12, 13)):
        run.step(20)
        _exit_and_replace(run, wid, new, 2, said=True)
    run.step(1)
    (alert,) = run.views[-1].alerts
    assert (alert.rule, alert.state) == ("WorkerCrashLoop", FIRING)
    assert alert.label_map["slot"] == "2"
    assert "worker" not in alert.label_map
    assert alert.value == 3  # 10, 11 and 12 in slot 2; worker 1 ran in an unknown slot
    assert alert.summary == "Workers in slot 2 exited abnormally 3 times in 5m"


def test_exits_without_a_slot_fall_back_to_the_spawns_slot_then_to_the_worker() -> None:
    run = Run(rules(CRASH_LOOP), PoolKnobs(workers=2))
    run.step(60)
    # an older pool: exits name no slot, spawns do; ids are new for every replacement
    _exit_and_replace(run, 1, 20, 5, said=False)
    run.step(1)
    for wid, new in ((20, 21), (21, 22)):
        _exit_and_replace(run, wid, new, 5, said=False)
        run.step(1)
    # a source that reuses ids and never names a slot: counted per worker, as `w<id>`
    for _ in range(2):
        _exit_and_replace(run, 7, 7, None, said=False)
        run.step(1)
    values = MetricReader(run.feed.agg, run.now, MetricMemory()).read("worker_exits", 300, "slot")
    got = {k[0][1]: values.get(k) for k in values.keys}
    # worker 1's exit: its slot was never said (the feed's spawns name none) -> w1, once;
    # 20 and 21 exited in slot 5 (their spawns said so), 22 lives there now -> 2;
    # worker 7 twice; the feed's worker 0, without exits -> 0.
    assert got == {"5": 2, "w0": 0, "w1": 1, "w7": 2}
    assert [a.label_map["slot"] for a in run.views[-1].alerts] == []  # none reached 3
