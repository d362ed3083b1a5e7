"""A worker reads its tasks without allocating (and faulting in) fresh memory per read.

`sock.recv(256 KiB)` allocates a new bytes object on every read. glibc serves a request that
size with mmap unless the process's dynamic mmap threshold was raised earlier, then shrinks it
to the bytes read (mremap) and unmaps it when freed, which never raises the threshold: two
page faults and three system calls per task, about 10 µs, and a round trip measured twice as
long. Whether a worker's threshold happened to be raised depended on its start-up: with stdout
and stderr connected to pipes (a pool run under a supervisor, `| tee`, `subprocess.run(...,
capture_output=True)`) it was not. The worker now reads into one buffer kept for its life.

Whether the threshold was raised is an accident of each process's allocation history, so the
test does not rely on one: its pool runs in a child process with output through pipes and glibc's
mmap threshold fixed at 128 KiB (`MALLOC_MMAP_THRESHOLD_`, as poolmon's own `heaptrim` fixes it
in the pool process), where every read above that size is mapped afresh. It counts the
worker's minor page faults, not time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TRIPS = 2000

SCRIPT = f"""
from poolmon import Pool
from poolmon.bench.tasks import ident


def minor_faults(pid):
    with open(f"/proc/{{pid}}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


if __name__ == "__main__":
    with Pool(1, monitor=False) as pool:
        assert pool.wait_ready(30)
        pid = pool.stats().workers[0].pid
        for i in range(200):
            assert pool.submit(ident, i).result(timeout=30) == i
        before = minor_faults(pid)
        for i in range({TRIPS}):
            assert pool.submit(ident, i).result(timeout=30) == i
        print(minor_faults(pid) - before)
"""


def test_a_worker_whose_output_is_piped_reads_tasks_without_new_pages(tmp_path: Path) -> None:
    script = tmp_path / "trips.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)},
    )
    assert done.returncode == 0, done.stderr
    faults = int(done.stdout.split()[-1])
    # measured: 4,010 faults over 2,000 round trips with recv(), 10-20 with the kept buffer
    assert faults < TRIPS // 10, f"the worker took {faults} page faults in {TRIPS} round trips"
