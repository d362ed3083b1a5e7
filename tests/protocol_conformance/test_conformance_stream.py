"""Conformance, section 4 of docs/PROTOCOL.md: SUBSCRIBE, BATCH, HEARTBEAT, frames that fit.

The client half is `wireclient` (raw socket + msgpack, no poolmon); the server is a real pool.
Which test covers which clause of the spec: test_conformance_clauses.py.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wireclient as wc
from conformance_servers import fail_on_odd, real_pool, square

from poolmon import Pool

pytestmark = pytest.mark.integration


@pytest.fixture
def pool_path() -> Iterator[tuple[Pool, str]]:
    with real_pool("conf_stream") as found:
        yield found


def collect_tasks(
    wire: wc.Wire, want: int, timeout: float = 30.0
) -> tuple[list[Any], list[dict[str, Any]]]:
    """BATCH frames until `want` task rows arrived: (the frames' fields, the rows)."""
    batches: list[Any] = []
    rows: list[dict[str, Any]] = []
    while len(rows) < want:
        fields = wire.expect(wc.BATCH, timeout, skip=(wc.HEARTBEAT,))
        batches.append(fields)
        for record in fields.get("tasks", []):
            rows += wc.task_rows(record)
    return batches, rows


def check_contiguous(batches: list[dict[str, Any]], first: int) -> None:
    """Section 4: the first frame starts at `first`; each next one at the previous end, or one
    before it (a continuation of a task record split across frames); records inside [seq, end)."""
    expected = first
    for fields in batches:
        assert fields["seq"] in (expected, expected - 1), (fields["seq"], expected)
        if fields["seq"] == expected - 1:
            assert [r[0] for r in fields["tasks"]] == [expected - 1]  # the split record's part
        for record in [*fields.get("events", []), *fields.get("tasks", [])]:
            assert fields["seq"] <= record[0] < fields["end"]
        expected = fields["end"]


def test_live_stream_follows_live_seq_and_carries_every_task(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    wire = wc.Wire(path)
    wire.handshake()
    wire.send(wc.SUBSCRIBE, {"history": False})
    end = wire.expect(wc.HISTORY_END)
    assert end == {"live_seq": end["live_seq"], "rollups_until_s": 0, "resumed": False, "lost": 0}
    futures = [pool.submit(fail_on_odd, i) for i in range(100)]
    futures += [pool.submit(square, i) for i in range(100)]
    for f in futures:
        f.exception(30)
    batches, rows = collect_tasks(wire, 200)
    check_contiguous(batches, end["live_seq"])
    assert sorted(r["task_id"] for r in rows) == sorted({r["task_id"] for r in rows})
    assert len(rows) == 200
    by_op: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_op.setdefault(row["op_name"], []).append(row)
        assert row["worker_id"] >= 0
        assert row["duration_ns"] >= 0
        assert row["wait_ns"] >= 0
        assert row["start_ns"] > 1_700_000_000 * 10**9  # wall clock, ns since the epoch
    failing = next(rs for op, rs in by_op.items() if "fail_on_odd" in op)
    assert sorted(r["status"] for r in failing) == [0] * 50 + [1] * 50
    assert {r["error_name"] for r in failing if r["status"] == 1} == {"ValueError"}
    assert {r["error_name"] for r in failing if r["status"] == 0} == {""}
    events = [e for b in batches for e in b.get("events", [])]
    for seq, name, ts_ns, measurements, metadata in events:
        assert isinstance(seq, int)
        assert isinstance(name, str)
        assert isinstance(ts_ns, int)
        assert isinstance(measurements, dict)
        assert isinstance(metadata, dict)
    wire.close()


def test_batches_fit_a_small_max_frame_size(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    wire = wc.Wire(path)
    wire.handshake(max_frame_size=wc.MIN_MAX_FRAME_SIZE)
    wire.send(wc.SUBSCRIBE, {"history": False, "events": []})
    live = wire.expect(wc.HISTORY_END)["live_seq"]
    n = 5000
    for f in list(pool.map(square, range(n), chunksize=1)):
        assert f >= 0
    batches, rows = collect_tasks(wire, n)
    check_contiguous(batches, live)
    assert len({r["task_id"] for r in rows}) == n
    assert max(wire.sizes) <= wc.MIN_MAX_FRAME_SIZE
    beat = wire.expect(wc.HEARTBEAT, 5, skip=(wc.BATCH,))
    assert beat["dropped_records"] == 0
    wire.close()


def test_heartbeat(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    wire = wc.Wire(path)
    welcome = wire.handshake()
    wire.send(wc.SUBSCRIBE, {"history": False, "events": [], "tasks": False})
    wire.expect(wc.HISTORY_END)
    beat = wire.expect(wc.HEARTBEAT, 3 * welcome["heartbeat_interval_ns"] / 1e9)
    for key in ("ts_ns", "next_seq", "dropped_records", "dropped_tasks", "dropped_events"):
        assert isinstance(beat[key], int), key
    assert beat["next_seq"] >= welcome["next_seq"]
    wire.close()


def test_subscription_filters(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    worker_only = wc.Wire(path)
    worker_only.handshake()
    worker_only.send(wc.SUBSCRIBE, {"events": ["poolmon.worker"], "tasks": False})
    nothing = wc.Wire(path)
    nothing.handshake()
    nothing.send(wc.SUBSCRIBE, {"events": [], "tasks": False, "history": False})
    frames: list[Any] = []
    while (frame := worker_only.recv(5))[0] != wc.HISTORY_END:  # type: ignore[index]
        frames.append(frame)
    assert wc.ROLLUPS not in [t for t, _ in frames]
    pool.recycle_worker(pool.stats().workers[0].worker_id)  # worker events: exit, spawn, ready
    pool.submit(square, 3).result(30)
    names = []
    while len(names) < 3:
        fields = worker_only.expect(wc.BATCH, 10, skip=(wc.HEARTBEAT,))
        assert not fields.get("tasks")
        names += [e[1] for e in fields.get("events", [])]
    for _, fields in frames:
        names += [e[1] for e in fields.get("events", [])]
    assert names
    assert all(n == "poolmon.worker" or n.startswith("poolmon.worker.") for n in names)
    nothing.expect(wc.HISTORY_END)
    beat = nothing.expect(wc.HEARTBEAT, 5)  # nothing else arrives: no BATCH before it
    assert beat["dropped_records"] == 0
    worker_only.close()
    nothing.close()


def test_wire_client_is_independent() -> None:
    """The client half imports only the standard library and msgpack."""
    tree = ast.parse(Path(wc.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert imported - set(sys.stdlib_module_names) == {"msgpack"}
