"""Per-second rollups: exact counts, a msgpack-safe wire form, and backfill never counted twice."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from poolmon.core.aggregator import Aggregator
from poolmon.core.errors import ProtocolError
from poolmon.core.rollup import Rollup, RollupBuilder
from poolmon.testing.clock import ManualClock

NS = 1_000_000_000


def workload(make_batch, t0: int, seconds: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    batches = []
    for i in range(seconds):
        n = 200
        batches.append(
            make_batch(
                end_ns=t0 + i * NS + rng.integers(0, NS, n),
                duration_ns=rng.lognormal(np.log(2e6), 1.0, n).astype(np.int64),
                wait_ns=rng.integers(0, 5_000_000, n),
                worker_id=rng.integers(0, 4, n),
                op=rng.integers(0, 3, n),
                status=rng.choice([0, 0, 0, 0, 1, 2, 4], n),
                error_type=rng.choice([0, 1], n),
                task_id=np.arange(i * n, (i + 1) * n),
                ops=("a", "b", "c"),
                error_types=("", "OSError"),
            )
        )
    return batches


def test_rollup_counts_match_the_batch(make_batch, clock: ManualClock) -> None:
    t0 = clock.time_ns()
    (batch,) = workload(make_batch, t0, 1)
    builder = RollupBuilder()
    builder.add(batch)
    (r,) = builder.flush()
    status = np.frombuffer(batch.status, dtype=np.int64)
    assert r.second_ns == t0
    assert r.count == len(batch)
    assert list(r.by_status) == np.bincount(status, minlength=5).tolist()
    ran = int((status != 4).sum())
    assert sum(o.count for o in r.by_op) == ran == r.duration.count
    assert sum(w[1] for w in r.by_worker) == ran
    assert sum(n for _, n in r.by_error_type) == int(((status != 0) & (status != 4)).sum())


def test_wire_roundtrip_through_msgpack(make_batch, clock: ManualClock) -> None:
    builder = RollupBuilder()
    for b in workload(make_batch, clock.time_ns(), 3):
        builder.add(b)
    rollups = builder.flush()
    assert len(rollups) == 3
    for r in rollups:
        wire = msgpack.unpackb(msgpack.packb(r.to_wire()), strict_map_key=False)
        assert Rollup.from_wire(wire) == r


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("s"),
        lambda d: d.update(v=99),
        lambda d: d.update(st=[1, 2]),
        lambda d: d.update(d=[[5000], [1], 0, 0, 0]),
        lambda d: d.update(d=[[1, 2], [1], 0, 0, 0]),
        lambda d: d.update(op="nonsense"),
    ],
)
def test_malformed_wire_is_a_protocol_error(make_batch, clock, mutate) -> None:
    builder = RollupBuilder()
    builder.add(workload(make_batch, clock.time_ns(), 1)[0])
    wire = builder.flush()[0].to_wire()
    mutate(wire)
    with pytest.raises(ProtocolError):
        Rollup.from_wire(wire)
    with pytest.raises(ProtocolError):
        Rollup.from_wire([1, 2])  # type: ignore[arg-type]


def test_late_rows_are_counted_once_in_the_next_open_second(make_batch, clock) -> None:
    t0 = clock.time_ns()
    builder = RollupBuilder()
    builder.add(make_batch(end_ns=[t0, t0 + NS], duration_ns=[1000, 1000]))
    closed = builder.close_before(t0 + NS)
    assert [r.count for r in closed] == [1]
    builder.add(make_batch(end_ns=[t0 + 10], duration_ns=[1000]))  # late for t0
    (last,) = builder.flush()
    assert last.second_ns == t0 + NS
    assert last.count == 2
    assert builder.late_rows == 1


def test_backfill_gives_the_same_numbers_as_live(make_batch) -> None:
    clock_a, clock_b = ManualClock(), ManualClock()
    t0 = clock_a.time_ns()
    batches = workload(make_batch, t0, 30)
    live, backfilled = Aggregator(clock_a), Aggregator(clock_b)
    builder = RollupBuilder()
    for b in batches:
        live.ingest_tasks(b)
        builder.add(b)
    for r in builder.flush():
        backfilled.ingest_rollup(Rollup.from_wire(r.to_wire()))
    for c in (clock_a, clock_b):
        c.advance(30)
    a, b = live.snapshot(60), backfilled.snapshot(60)
    assert (a.tasks_finished, a.tasks_failed, a.tasks_cancelled) == (
        b.tasks_finished,
        b.tasks_failed,
        b.tasks_cancelled,
    )
    assert a.latency == b.latency
    assert a.queue_wait == b.queue_wait
    assert a.errors.by_type == b.errors.by_type
    assert [(o.name, o.count, o.errors) for o in a.operations] == [
        (o.name, o.count, o.errors) for o in b.operations
    ]
    assert [(w.worker_id, w.tasks_done) for w in a.workers] == [
        (w.worker_id, w.tasks_done) for w in b.workers
    ]


def test_reconnect_backfill_is_never_counted_twice(make_batch, clock: ManualClock) -> None:
    t0 = clock.time_ns()
    batches = workload(make_batch, t0, 40)
    builder = RollupBuilder()
    for b in batches:
        builder.add(b)
    history = builder.flush()
    agg = Aggregator(clock)
    # attach at t0+20: history for 0..19, then live 20..29; drop; reconnect at t0+40
    for r in history[:20]:
        agg.ingest_rollup(r)
    for b in batches[20:30]:
        agg.ingest_tasks(b)
    clock.advance(40)
    agg.mark_gap(t0 + 30 * NS, clock.time_ns())
    for r in history:  # the pool sends its whole history again
        agg.ingest_rollup(r)
    snap = agg.snapshot(60)
    expected = sum(int((np.frombuffer(b.status, dtype=np.int64) != 4).sum()) for b in batches)
    assert snap.tasks_finished == expected
    assert snap.gaps  # the gap is still recorded, but its seconds are now covered
    assert all(v is not None for v in agg.series("throughput", t0, t0 + 40 * NS, 1).values)
    # replaying the same history once more changes nothing
    for r in history:
        agg.ingest_rollup(r)
    assert agg.snapshot(60).tasks_finished == expected
