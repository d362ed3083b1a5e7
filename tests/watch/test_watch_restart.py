"""Counters never go back: a pool restarted under the same name is re-attached, counted on top."""

from __future__ import annotations

from pathlib import Path

from watch_helpers import wait_for

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.runtime.watch.watcher import Watcher


def _total(watcher: Watcher) -> int:
    figs = watcher.figures()
    return sum(o.count for o in figs[0].ops) if figs else -1


def test_restarted_pool_keeps_counting(runtime_dir: Path) -> None:
    first = Pool(2, name="again", alerts=False)
    watcher = Watcher([runtime_dir / "again.sock"])
    watcher.start()
    try:
        list(first.map(ident, range(100)))
        wait_for(lambda: _total(watcher) == 100)
        first.shutdown(wait=True)
        second = Pool(2, name="again", alerts=False)
        try:
            list(second.map(ident, range(50)))
            monitor = watcher.monitors[runtime_dir / "again.sock"]
            try:
                wait_for(lambda: _total(watcher) == 150, timeout_s=40)
            except AssertionError:
                agg = monitor.aggregator
                raise AssertionError(
                    f"total {_total(watcher)}, restarts {agg.pool_restarts}, "
                    f"duplicates ignored {agg.duplicates_ignored}"
                ) from None
            assert monitor.aggregator.pool_restarts == 1
            assert watcher.figures()[0].state == "live"
        finally:
            second.shutdown(wait=True)
    finally:
        watcher.stop()
