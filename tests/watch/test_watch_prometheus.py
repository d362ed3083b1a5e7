"""A real Prometheus scrapes a real watcher watching a real pool; PromQL gets the exact count."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from prom_server import prometheus
from watch_dashboard import expressions

from poolmon import Pool
from poolmon.bench.tasks import fail, ident
from poolmon.runtime.watch.collector import WatchCollector
from poolmon.runtime.watch.serve import MetricsServer, parse_listen
from poolmon.runtime.watch.watcher import Watcher


def test_promql_sees_exactly_the_tasks_submitted(
    make_pool: Callable[[str], Pool], runtime_dir: Path, tmp_path: Path
) -> None:
    pool = make_pool("promq")
    watcher = Watcher(discover=True, scan_s=0.5)
    watcher.start()
    server = MetricsServer(
        WatchCollector(watcher.figures), parse_listen("127.0.0.1:0", explicit=False)
    )
    try:
        with prometheus(tmp_path, f"127.0.0.1:{server.port}") as prom:
            assert list(pool.map(ident, range(1234))) == list(range(1234))
            for f in [pool.submit(fail, "x") for _ in range(5)]:
                f.exception(timeout=30)
            deadline = time.monotonic() + 60
            while prom.scalar("sum(poolmon_tasks_total)") != 1239:
                assert time.monotonic() < deadline, prom.query("poolmon_tasks_total")
                time.sleep(0.5)
            assert prom.scalar('sum(poolmon_tasks_total{status="error"})') == 5
            assert prom.scalar('poolmon_task_duration_seconds_count{op="ident"}') == 1234
            p99 = prom.scalar(
                "histogram_quantile(0.99, sum by (le) (poolmon_task_duration_seconds_bucket))"
            )
            assert p99 is not None
            assert 0 < p99 < 10
            assert prom.scalar('up{job="poolmon"}') == 1
            for expr in expressions(substitute=True):  # the Grafana dashboard's queries
                assert prom.query(expr)["resultType"] in ("vector", "matrix"), expr
            assert prom.query("poolmon_worker_rss_bytes")["result"], "no worker RSS series"
    finally:
        server.close()
        watcher.stop()
