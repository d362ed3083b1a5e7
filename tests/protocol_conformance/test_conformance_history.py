"""Conformance, section 5 of docs/PROTOCOL.md: resume, backfill, ROLLUPS and their histograms.

The client half is `wireclient` (raw socket + msgpack, no poolmon): it computes percentiles
from the rollups with the spec's recipe alone. The server half is a real pool; it also checks
those percentiles against poolmon's own sketch (`poolmon.core.sketch`), which the app uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import wireclient as wc
from conformance_servers import fail_on_odd, nap, real_pool, square
from test_conformance_stream import check_contiguous, collect_tasks

from poolmon import Pool
from poolmon.core.rollup import Hist
from poolmon.core.sketch import quantiles_from_counts

pytestmark = pytest.mark.integration


@pytest.fixture
def pool_path() -> Iterator[tuple[Pool, str]]:
    with real_pool("conf_hist") as found:
        yield found


def history_frames(wire: wc.Wire) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """ROLLUPS fields, BATCH fields and the HISTORY_END, in the order section 5 gives."""
    rollups: list[Any] = []
    batches: list[Any] = []
    while True:
        frame = wire.recv(15)
        assert frame is not None
        ftype, fields = frame
        if ftype == wc.HISTORY_END:
            return rollups, batches, fields
        if ftype == wc.ROLLUPS:
            assert not batches, "ROLLUPS come before the backfill's BATCH frames"
            rollups.append(fields)
        else:
            assert ftype == wc.BATCH, wc.NAMES.get(ftype)
            batches.append(fields)


def test_fresh_pool_has_no_rollups(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    wire = wc.Wire(path)
    wire.handshake()
    wire.send(wc.SUBSCRIBE, {})
    rollups, batches, end = history_frames(wire)
    assert rollups == []
    assert end["rollups_until_s"] == 0
    assert end["resumed"] is False
    assert end["lost"] == 0
    assert batches
    assert batches[-1]["end"] == end["live_seq"]
    wire.close()


def test_no_history(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    wire = wc.Wire(path)
    welcome = wire.handshake()
    wire.send(wc.SUBSCRIBE, {"history": False})
    end = wire.expect(wc.HISTORY_END)
    assert end["live_seq"] >= welcome["next_seq"]
    assert end["rollups_until_s"] == 0
    wire.close()


def test_resume_is_exact(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    first = wc.Wire(path)
    first.handshake()
    first.send(wc.SUBSCRIBE, {"history": False})
    live = first.expect(wc.HISTORY_END)["live_seq"]
    for f in [pool.submit(square, i) for i in range(100)]:
        f.result(30)
    batches, rows_a = collect_tasks(first, 100)
    check_contiguous(batches, live)
    stopped_at = batches[-1]["end"]
    first.close()
    for f in [pool.submit(square, i) for i in range(100, 250)]:
        f.result(30)
    time.sleep(0.3)  # the endpoint flushes within its 100 ms idle interval
    second = wc.Wire(path)
    second.handshake()
    second.send(wc.SUBSCRIBE, {"resume_seq": stopped_at})
    rollups, resumed, end = history_frames(second)
    assert rollups == []
    assert end["resumed"] is True
    assert end["lost"] == 0
    assert end["rollups_until_s"] == 0
    check_contiguous(resumed, stopped_at)
    assert resumed[-1]["end"] == end["live_seq"]
    rows_b = [row for b in resumed for rec in b.get("tasks", []) for row in wc.task_rows(rec)]
    ids_a = {r["task_id"] for r in rows_a}
    ids_b = {r["task_id"] for r in rows_b}
    assert len(ids_b) == len(rows_b)
    assert not ids_a & ids_b
    assert len(ids_a | ids_b) == 250  # nothing missed
    second.close()


def test_resume_beyond_next_seq_gets_a_backfill(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    wire = wc.Wire(path)
    welcome = wire.handshake()
    wire.send(wc.SUBSCRIBE, {"resume_seq": welcome["next_seq"] + 1000})
    _, batches, end = history_frames(wire)
    assert end["resumed"] is False
    assert end["lost"] == 0
    assert batches  # the held events, as in any backfill
    wire.close()


def test_resume_too_old_counts_lost() -> None:
    with real_pool("conf_old", history_raw_mib=0.25) as (pool, path):
        deadline = time.monotonic() + 60
        oldest = 0
        while oldest == 0 and time.monotonic() < deadline:
            for f in [pool.submit(square, i) for i in range(500)]:
                f.result(30)
            time.sleep(0.5)  # batches are evicted once their seconds are closed
            probe = wc.Wire(path)
            oldest = probe.handshake()["oldest_seq"]
            probe.close()
        assert oldest > 0, "history never evicted a batch"
        wire = wc.Wire(path)
        wire.handshake()
        wire.send(wc.SUBSCRIBE, {"resume_seq": 0})
        _, _, end = history_frames(wire)
        assert end["resumed"] is False
        assert end["lost"] >= oldest
        wire.close()


def test_backfill_rollups_and_percentiles(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    live = wc.Wire(path)  # sees every task live, raw
    live.handshake()
    live.send(wc.SUBSCRIBE, {"history": False, "events": []})
    live.expect(wc.HISTORY_END)
    futures = [pool.submit(nap, (i % 7) / 1000) for i in range(60)]
    futures += [pool.submit(fail_on_odd, i) for i in range(80)]
    futures += [pool.submit(square, i) for i in range(200)]
    for f in futures:
        f.exception(30)
    _, rows = collect_tasks(live, len(futures))
    live.close()
    last_second = max((r["start_ns"] + r["duration_ns"]) // 10**9 for r in rows)
    # Section 5: a second [s, s + 1) is closed by the tick at s + 1.55 s; wait that long.
    while time.time() < last_second + 1.55 + 0.5:
        time.sleep(0.1)

    wire = wc.Wire(path)
    wire.handshake()
    wire.send(wc.SUBSCRIBE, {"events": []})
    frames, batches, end = history_frames(wire)
    wire.close()
    until_s = end["rollups_until_s"]
    assert frames
    assert all(f["until_s"] == until_s for f in frames)
    assert until_s > last_second
    rollups = [r for f in frames for r in f["rollups"]]
    seconds = [r["s"] for r in rollups]
    assert seconds == sorted(seconds)
    assert all(s // 10**9 < until_s for s in seconds)
    raw_late = [row for b in batches for rec in b.get("tasks", []) for row in wc.task_rows(rec)]
    assert raw_late == []  # every task's second is closed: all of them are in the rollups
    assert sum(r["n"] for r in rollups) == len(rows)  # each task once
    for r in rollups:
        assert r["v"] == 1
        assert len(r["st"]) == 5
        assert sum(r["st"]) == r["n"]
        assert sum(op[1] for op in r["op"]) == r["n"]  # nothing cancelled here
        assert sum(w[1] for w in r["w"]) == r["n"]
    errors = {name: 0 for r in rollups for name, _ in r["e"]}
    for r in rollups:
        for name, n in r["e"]:
            errors[name] += n
    assert errors == {"ValueError": 40}

    merged = wc.merge([r["d"] for r in rollups])
    assert merged[3] == min(r["duration_ns"] for r in rows)
    assert merged[4] == max(r["duration_ns"] for r in rows)
    assert merged[2] == sum(r["duration_ns"] for r in rows)
    durations = [r["duration_ns"] for r in rows]
    ours = Hist.from_wire(merged)
    pools = quantiles_from_counts(ours.dense(), (0.5, 0.9, 0.99), ours.min_ns, ours.max_ns)
    for q, theirs in zip((0.5, 0.9, 0.99), pools, strict=True):
        estimate = wc.percentile(merged, q)
        assert estimate == theirs  # the spec's recipe gives the pool's own figure
        exact = wc.exact_percentile(durations, q)
        assert estimate is not None
        assert abs(estimate - exact) <= 0.01 * exact + 1e-9, (q, exact)
    by_op: dict[str, list[list[Any]]] = {}
    for r in rollups:
        for name, _, _, hist in r["op"]:
            by_op.setdefault(name, []).append(hist)
    for name, hists in by_op.items():
        values = [r["duration_ns"] for r in rows if r["op_name"] == name]
        estimate = wc.percentile(wc.merge(hists), 0.5)
        exact = wc.exact_percentile(values, 0.5)
        assert estimate is not None
        assert abs(estimate - exact) <= 0.01 * exact + 1e-9, name
