"""Every count survives reconnects: a real pool, a monitor whose link is broken again and again.

The monitor (`poolmon.runtime.monitor.Monitor`, the app's data source) is disconnected at
random points, also while a backfill is still arriving, and reconnects by resume (history big
enough) or by full backfill (raw task history so small that the resume point is always gone).
At the end every count it shows (totals, per operation, per worker, per error type and
category, worker restarts, pool restarts, the pool's own totals) must equal what an
independent tally of the pool's stream says, which itself must equal what the futures say.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from stream_counts import StreamCounts, shown

from poolmon.core.protocol import Batch
from poolmon.runtime.client import Backoff, MonitorClient
from poolmon.runtime.endpoint import EndpointServer, History
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def fast(x: int) -> int:
    return x + 1


def slow(x: int) -> int:
    time.sleep(0.004)
    return x


def bad_value(x: int) -> int:
    raise ValueError(f"bad {x}")


def bad_key(x: int) -> int:
    raise KeyError(x)


def crash(x: int) -> int:
    os._exit(3)


class StreamTally(StreamCounts):
    """`StreamCounts` of everything a reference client, connected from the start, receives."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.client = MonitorClient(path, client="reference")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.client.connect()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.client.recv(0.1)
            if isinstance(frame, Batch):
                for _, event in frame.events:
                    self.event(event)
                for _, batch in frame.tasks:
                    self.tasks(batch)


def _drop_while_connecting(monitor: Monitor) -> bool:
    """Wait (up to 3 s) for the next handshake, then break the link before HISTORY_END."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if monitor.status().state == "connecting":
            monitor.drop_connection()
            return True
        time.sleep(0.0005)
    return False


@pytest.mark.parametrize("history", ["resume", "backfill"])
def test_counts_survive_random_reconnects(short_dir: Path, history: str) -> None:
    from poolmon import Pool

    rng = random.Random(f"reconnects-{history}")
    telemetry = Telemetry()
    pool = Pool(2, name="recon", monitor=False, telemetry=telemetry)
    # "backfill": raw task batches beyond ~100 rows are evicted once rolled up (seconds close
    # as soon as they end, so rows also arrive late for closed seconds), and the monitor waits
    # 1-2 s before reconnecting: its resume point is gone and it gets rollups + raw rows.
    backfill = history == "backfill"
    hist = History(raw_task_bytes=64 * 100, close_grace_s=0) if backfill else History()
    server = EndpointServer(pool, telemetry, path=short_dir / "recon.sock", history=hist)
    server.start()
    ref = StreamTally(server.path)
    backoff = Backoff(first_s=1.2, cap_s=1.5) if backfill else Backoff(first_s=0.02, cap_s=0.3)
    monitor = Monitor(server.path, backoff=backoff)
    try:
        ref.start()
        monitor.start()
        time.sleep(0.3)
        futures = []
        fns = [fast, fast, fast, slow, bad_value, bad_key]
        drops = mid_history = 0
        started = time.monotonic()
        want_drops = 3 if backfill else 8
        i = 0
        # Run at least 5 s and until enough drops happened (a loaded machine is slower).
        while time.monotonic() - started < 40 and (
            time.monotonic() - started < 5
            or drops < want_drops
            or monitor.histories[not backfill] < 3
        ):
            for _ in range(rng.randrange(20, 80)):
                fn = crash if rng.random() < 0.003 else rng.choice(fns)
                futures.append(pool.submit(fn, i))
                i += 1
            time.sleep(rng.uniform(0.0, 0.08))
            if rng.random() < 0.3 and monitor.status().state in ("live", "connecting"):
                in_history = monitor.status().state == "connecting"
                monitor.drop_connection()
                drops += 1
                mid_history += in_history
                if rng.random() < 0.3 and _drop_while_connecting(monitor):
                    drops += 1  # the next connection broken while its history arrived
                    mid_history += 1
        for f in futures:
            f.exception(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            snap = monitor.snapshot(3600)
            if (
                int(ref.status.get("tasks_done", -1)) == len(futures)
                and snap.pool_tasks_done_total == len(futures)
                and snap.tasks_finished_total == ref.finished
                and monitor.status().state == "live"
            ):
                break
            time.sleep(0.1)
        time.sleep(0.3)
        snap = monitor.snapshot(3600)
        assert ref.client.lost_records == 0
        # The reference agrees with the futures, so it is a fair judge; only the rows of tasks
        # a worker finished after its last report before crashing are missing (docs/POOL.md).
        outcomes = Counter(type(f.exception()).__name__ for f in futures if f.exception())
        crashes = outcomes["WorkerCrashed"]
        assert ref.error_types["WorkerCrashed"] == crashes
        assert 0 <= len(futures) - ref.finished <= 100 * crashes
        for name in ("ValueError", "KeyError"):
            assert 0 <= outcomes[name] - ref.error_types[name] <= 50 * crashes
        assert shown(snap) == ref.expected(), f"{drops} drops ({mid_history} mid-history)"
        assert drops >= want_drops, (drops, mid_history)
        if history == "backfill":
            assert monitor.histories[False] >= 3, monitor.histories
        else:
            assert monitor.histories[True] >= 5, monitor.histories
    finally:
        monitor.stop()
        ref.stop()
        server.close()
        pool.shutdown(cancel_futures=True)
