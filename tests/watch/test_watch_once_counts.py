"""`--once --json` counts every task under its own status, however the backfill cut the rows.

Before, a once run that attached while its pool's tasks were finishing got that second's
first tasks as raw rows (backfill) and the rest in the second's rollup; when the second held
more than one failure kind (a ValueError and a timeout), the rest's failures were labelled
`status="failed"`, so a current pool's ValueError was sometimes counted as "failed" instead of
"error" (2 runs in 6 for a reviewer's busy pool).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from watch_helpers import wait_for

from poolmon import Pool
from poolmon.bench.tasks import fail, ident, sleepy
from poolmon.runtime.source import LIVE
from poolmon.runtime.watch.serve import run_once
from poolmon.runtime.watch.watcher import Watcher


def _flaky(pool: Pool, n: int, truth: Counter[tuple[str, str]]) -> None:
    """`n` tasks of op flaky, every 4th a ValueError, all finished on return."""
    flaky = pool.options(op="flaky")
    futures = [
        flaky.submit(fail, "boom") if i % 4 == 0 else flaky.submit(ident, i) for i in range(n)
    ]
    for i, f in enumerate(futures):
        if i % 4 == 0:
            assert isinstance(f.exception(timeout=30), ValueError)
            truth["flaky", "error"] += 1
        else:
            assert f.result(timeout=30) == i
            truth["flaky", "ok"] += 1


def _once(watcher: Watcher) -> dict[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_once(watcher, 15.0) == 0
    (row,) = json.loads(out.getvalue())["pools"]
    assert isinstance(row, dict)
    return row


def test_once_counts_each_status_exactly_every_time(
    make_pool: Callable[[str], Pool], runtime_dir: Path
) -> None:
    pool = make_pool("mix")
    truth: Counter[tuple[str, str]] = Counter()
    for _ in range(5):
        time.sleep(1.02 - time.time() % 1)  # a second's start: both halves fall in one second
        hang = pool.options(op="hang", timeout=0.05).submit(sleepy, 2.0)
        assert hang.exception(timeout=30) is not None
        truth["hang", "timeout"] += 1
        _flaky(pool, 20, truth)  # before the attach: the backfill's raw rows of that second
        time.sleep(max(0.0, 0.45 - time.time() % 1))  # the rows reached the pool's endpoint
        watcher = Watcher([runtime_dir / "mix.sock"])
        watcher.start()
        try:
            (monitor,) = watcher.monitors.values()
            wait_for(lambda m=monitor: m.status().state == LIVE)
            _flaky(pool, 20, truth)  # after it: only in that second's rollup
            row = _once(watcher)
        finally:
            watcher.stop()
        got = Counter(
            {
                (o["op"], status): n
                for o in row["operations"]  # type: ignore[attr-defined]
                for status, n in o["by_status"].items()
                if n
            }
        )
        assert got == truth
        assert row["tasks_total"] == sum(truth.values())
