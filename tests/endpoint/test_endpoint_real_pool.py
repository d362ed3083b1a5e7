"""The endpoint around a real `poolmon.Pool`: tasks stream out, stats and resize work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


def square(x: int) -> int:
    return x * x


def test_real_pool_streams_tasks_and_obeys_commands(short_dir: Path) -> None:
    from poolmon import Pool

    telemetry = Telemetry()
    pool = Pool(2, name="realpool", monitor=False, telemetry=telemetry)
    server = EndpointServer(pool, telemetry, path=short_dir / "realpool.sock").start()
    try:
        with MonitorClient(server.path, history=False) as client:
            assert client.welcome is not None
            assert client.welcome.pool == "realpool"
            assert isinstance(client.recv(5), HistoryEnd)
            time.sleep(0.1)  # the pool notices a new batch listener on its next 20 ms tick
            futures = [pool.submit(square, i) for i in range(200)]
            assert [f.result(timeout=30) for f in futures] == [i * i for i in range(200)]
            seen: set[int] = set()
            deadline = time.monotonic() + 15
            while len(seen) < 200 and time.monotonic() < deadline:
                frame = client.recv(0.2)
                if isinstance(frame, Batch):
                    for _, batch in frame.tasks:
                        seen.update(batch.task_id)
            assert len(seen) >= 200
            stats = client.command("stats", timeout_s=10)
            assert stats.ok
            assert stats.result["pool"]["size"] == 2
            assert stats.result["pool"]["tasks_done"] >= 200
            reply = client.command("resize", {"size": 3}, timeout_s=30)
            assert reply.ok, reply.reason
            assert pool.size == 3
            too_big = client.command("resize", {"size": pool.max_size + 1})
            assert not too_big.ok
    finally:
        server.close()
        pool.shutdown()


BUSY_POOL = """
import sys, time
from poolmon import Pool
from poolmon.bench.tasks import ident
if __name__ == "__main__":
    with Pool(1, name="reads", monitor=sys.argv[1]) as pool:
        print("up", flush=True)
        while True:
            pool.submit(ident, 1).result(30)
            time.sleep(0.001)
"""


def test_a_client_reads_frames_without_a_read_sized_object_per_read(short_dir: Path) -> None:
    """Reads go into one kept buffer: a fresh `recv(256 KiB)` object per read is mapped and
    unmapped by glibc when the mmap threshold is below it, as the app pins it (heaptrim).

    The pool runs in a child process, so that only the client's allocations are traced here.
    """
    import subprocess
    import sys
    import tracemalloc

    sock = short_dir / "reads.sock"
    child = subprocess.Popen(
        [sys.executable, "-c", BUSY_POOL, str(sock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "up"
        with MonitorClient(sock, history=False) as client:
            assert isinstance(client.recv(10), HistoryEnd)
            for _ in range(20):  # frames flow; the client's own structures exist now
                client.recv(0.2)
            frames = 0
            tracemalloc.start()
            try:
                base, _ = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    if client.recv(0.2) is not None:
                        frames += 1
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert frames >= 5  # it really read
            assert peak - base < 256 * 1024, f"reading peaked at {peak - base} bytes"
    finally:
        child.kill()
        child.wait(10)
