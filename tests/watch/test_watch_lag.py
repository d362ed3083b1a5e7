"""`poolmon_watcher_lag_seconds` is the age of the pool's last frame: a dead pool's only grows.

Before, each reconnection attempt reset it, so the lag of a pool stopped 8 s ago read as a
sawtooth (0.2, 0.6, 1.3, ... 4.9, 1.0, 2.1, ...) that never passed the documented ~5 s.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

from watch_helpers import sample, scrape, wait_for

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.runtime.watch.collector import WatchCollector
from poolmon.runtime.watch.serve import MetricsServer, parse_listen
from poolmon.runtime.watch.watcher import Watcher


def test_the_lag_of_a_stopped_pool_grows_without_bound(
    make_pool: Callable[[str], Pool], runtime_dir: Path
) -> None:
    pool = make_pool("gone")
    list(pool.map(ident, range(10)))
    watcher = Watcher([runtime_dir / "gone.sock"])
    watcher.start()
    server = MetricsServer(
        WatchCollector(watcher.figures), parse_listen("127.0.0.1:0", explicit=False)
    )
    try:

        def lag() -> float | None:
            return sample(scrape(server.url())[1], "poolmon_watcher_lag_seconds", pool="gone")

        wait_for(lambda: sample(scrape(server.url())[1], "poolmon_pool_up") == 1.0)
        assert (lag() or 0.0) < 2.0  # heartbeats every second while it runs
        pool.shutdown(wait=True)
        stopped = time.monotonic()
        lags = []
        while time.monotonic() - stopped < 8.5:
            time.sleep(0.25)
            value = lag()
            assert value is not None
            lags.append(value)
        assert sample(scrape(server.url())[1], "poolmon_pool_up") == 0.0
        assert all(b >= a for a, b in itertools.pairwise(lags)), lags
        assert lags[-1] >= 7.0, lags
        assert watcher.monitors[runtime_dir / "gone.sock"].status().attempts >= 2
    finally:
        server.close()
        watcher.stop()
