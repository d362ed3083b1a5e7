"""Shutdown with and without waiting, cancel_futures, bounded queue, and no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pool_test_tasks as t
import pytest
from pool_test_helpers import pid_alive, wait_for

from poolmon.bench.tasks import ident
from poolmon.runtime.pool import Pool, QueueFull


def test_shutdown_wait_drains_queued_work(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1, max_in_flight=1)
    futs = [pool.submit(t.sleep_pid, 0.05) for _ in range(5)]
    pids = [w.pid for w in pool.stats().workers]
    pool.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in futs)
    assert not any(pid_alive(p) for p in pids)
    assert pool.stats().workers == ()


def test_shutdown_cancel_futures_without_waiting(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1, max_in_flight=1)
    running = pool.submit(t.sleep_pid, 0.3)
    queued = [pool.submit(ident, i) for i in range(10)]
    wait_for(lambda: pool.stats().busy == 1, what="busy")
    start = time.monotonic()
    pool.shutdown(wait=False, cancel_futures=True)
    assert time.monotonic() - start < 0.2
    assert all(f.cancelled() for f in queued)
    assert isinstance(running.result(10), int)  # a task already running finishes
    assert pool.stats().totals.cancelled == 10
    pool.shutdown(wait=True)


def test_queue_full_raises_or_blocks(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1, max_in_flight=1, max_queue=2)
    pool.submit(t.sleep_pid, 0.5)
    wait_for(lambda: pool.stats().busy == 1, what="busy")
    pool.submit(ident, 1)
    pool.submit(ident, 2)
    with pytest.raises(QueueFull, match="max_queue=2"):
        pool.submit(ident, 3)
    assert pool.stats().totals.rejected == 1

    blocking: Pool = make_pool(1, max_in_flight=1, max_queue=1, on_queue_full="block")
    blocking.submit(t.sleep_pid, 0.3)
    wait_for(lambda: blocking.stats().busy == 1, what="busy")
    blocking.submit(ident, 1)
    start = time.monotonic()
    assert blocking.submit(ident, 2).result(10) == 2  # waited for room, then ran
    assert time.monotonic() - start > 0.1

    timed: Pool = make_pool(
        1, max_in_flight=1, max_queue=1, on_queue_full="block", queue_timeout=0.1
    )
    timed.submit(t.sleep_pid, 1)
    wait_for(lambda: timed.stats().busy == 1, what="busy")
    timed.submit(ident, 1)
    with pytest.raises(QueueFull, match="after waiting"):
        timed.submit(ident, 2)


_ORPHAN_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from poolmon.runtime.pool import Pool
    from poolmon.bench.tasks import sleepy

    if __name__ == "__main__":
        pool = Pool(2, monitor=False)
        pool.wait_ready(20)
        pool.submit(sleepy, 60)  # one worker busy in a long task, one idle
        time.sleep(0.2)
        print(" ".join(str(w.pid) for w in pool.stats().workers), flush=True)
        time.sleep(60)
    """
)


def test_parent_sigkill_leaves_no_orphans(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2
        assert all(pid_alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=5, what="workers to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
