"""A real pool, the watcher in-process, /metrics over HTTP: counts, promtool, negotiation."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from watch_helpers import sample, scrape, wait_for

from poolmon import Pool
from poolmon.bench.tasks import fail, ident
from poolmon.runtime.watch.collector import WatchCollector
from poolmon.runtime.watch.serve import MetricsServer, parse_listen
from poolmon.runtime.watch.watcher import Watcher

PROMTOOL = shutil.which("promtool")


@pytest.fixture
def served(make_pool: Callable[[str], Pool], runtime_dir: Path) -> Iterator[tuple[Pool, str]]:
    pool = make_pool("expo")
    watcher = Watcher([runtime_dir / "expo.sock"])
    watcher.start()
    server = MetricsServer(
        WatchCollector(watcher.figures), parse_listen("127.0.0.1:0", explicit=False)
    )
    try:
        yield pool, server.url()
    finally:
        server.close()
        watcher.stop()


def _run(pool: Pool, ok: int, bad: int) -> None:
    assert list(pool.map(ident, range(ok))) == list(range(ok))
    for f in [pool.submit(fail, "boom") for _ in range(bad)]:
        assert f.exception(timeout=30) is not None


def test_counts_are_exact_and_histogram_agrees(served: tuple[Pool, str]) -> None:
    pool, url = served
    _run(pool, 300, 7)

    def done() -> bool:
        body = scrape(url)[1]
        return (sample(body, "poolmon_tasks_total", op="ident", status="ok") or 0) >= 300 and (
            sample(body, "poolmon_tasks_total", op="fail", status="error") or 0
        ) >= 7

    wait_for(done)
    body = scrape(url)[1]
    assert sample(body, "poolmon_tasks_total", pool="expo", op="ident", status="ok") == 300
    assert sample(body, "poolmon_tasks_total", pool="expo", op="fail", status="error") == 7
    assert sample(body, "poolmon_task_duration_seconds_count", op="ident") == 300
    assert sample(body, "poolmon_telemetry_dropped_total", pool="expo") == 0  # filtered != lost
    assert sample(body, "poolmon_task_duration_seconds_bucket", op="ident", le="+Inf") == 300
    wait_for(lambda: sample(scrape(url)[1], "poolmon_pool_size", pool="expo") == 2)
    assert sample(body, "poolmon_pool_up", pool="expo") == 1
    wait_for(lambda: sample(scrape(url)[1], "poolmon_worker_rss_bytes", worker="0") is not None)


def test_exposition_passes_promtool(served: tuple[Pool, str]) -> None:
    if PROMTOOL is None:
        pytest.skip("LOUD SKIP: promtool not installed (apt-get install prometheus; .ci/run does)")
    pool, url = served
    _run(pool, 50, 2)
    wait_for(
        lambda: (sample(scrape(url)[1], "poolmon_tasks_total", op="fail", status="error") or 0) >= 2
    )
    body = scrape(url)[1]
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_openmetrics_parses_strictly(served: tuple[Pool, str]) -> None:
    """promtool reads only the text format; the OpenMetrics side goes through a strict parser."""
    pool, url = served
    _run(pool, 20, 1)
    wait_for(
        lambda: (sample(scrape(url)[1], "poolmon_tasks_total", op="fail", status="error") or 0) >= 1
    )
    om = scrape(url, "application/openmetrics-text; version=1.0.0")[1]
    families = {f.name: f for f in text_string_to_metric_families(om)}
    assert families["poolmon_tasks"].type == "counter"
    assert families["poolmon_task_duration_seconds"].unit == "seconds"
    total = sum(s.value for s in families["poolmon_tasks"].samples if s.name.endswith("_total"))
    assert total == 21


def test_content_negotiation(served: tuple[Pool, str]) -> None:
    _, url = served
    ctype, text = scrape(url)
    assert ctype.startswith("text/plain")
    assert "version=0.0.4" in ctype
    assert "# EOF" not in text
    assert "# TYPE poolmon_tasks_total counter" in text
    ctype, om = scrape(url, "application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert ctype.startswith("application/openmetrics-text")
    assert om.rstrip().endswith("# EOF")
    assert "# TYPE poolmon_tasks counter" in om
    assert "# UNIT poolmon_task_duration_seconds seconds" in om
