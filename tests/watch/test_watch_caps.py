"""Cardinality caps: ops beyond the cap fold into "(other)" (monotonic), workers are capped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from poolmon.core.op_totals import EXPORT_BOUNDS_S, OpTotal
from poolmon.runtime.watch.collector import Caps, WatchCollector, cap_ops
from poolmon.runtime.watch.figures import PoolFigures, WorkerFigures

_NB = len(EXPORT_BOUNDS_S) + 1


def _op(name: str, ok: int) -> OpTotal:
    buckets = [0] * _NB
    buckets[3] = ok
    return OpTotal(name, (ok, 0, 0, 0, 0), tuple(buckets), ok * 1e-4)


def _figures(n_ops: int, n_workers: int) -> PoolFigures:
    return PoolFigures(
        pool="p",
        socket="/x/p.sock",
        state="live",
        heard=True,
        lag_s=0.1,
        pid=1,
        size=n_workers,
        busy=0,
        queue_depth=0,
        utilization=None,
        ops=tuple(_op(f"op{i}", i + 1) for i in range(n_ops)),
        cancelled_total=0,
        worker_exits=(),
        telemetry_dropped=0,
        workers=tuple(WorkerFigures(i, 1000 + i, 0.5) for i in range(n_workers)),
        alerts=None,
    )


def test_cap_ops_folds_the_later_ops_and_keeps_the_sum() -> None:
    ops = _figures(10, 1).ops
    kept, folded = cap_ops(ops, 4)
    assert [o.name for o in kept] == ["op0", "op1", "op2", "op3", "(other)"]
    assert folded == 6
    assert sum(o.count for o in kept) == sum(o.count for o in ops)
    assert kept[-1].buckets[3] == sum(range(5, 11))


def test_exposition_respects_the_caps() -> None:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(WatchCollector(lambda: [_figures(50, 300)], Caps(max_ops=8, max_workers=16)))
    body = generate_latest(reg).decode()
    ops = {
        line.split('op="')[1].split('"')[0]
        for line in body.splitlines()
        if "poolmon_tasks_total{" in line
    }
    assert len(ops) == 9
    assert "(other)" in ops
    rss = [line for line in body.splitlines() if line.startswith("poolmon_worker_rss_bytes{")]
    assert len(rss) == 16
    assert 'poolmon_watch_series_dropped{kind="op",pool="p"} 42.0' in body
    assert 'poolmon_watch_series_dropped{kind="worker",pool="p"} 284.0' in body
    assert "poolmon_utilization_ratio{" not in body  # None: left out, never a made-up 0
