"""poolmon's threads leave process signals to the main thread (`poolmon.runtime.threads`).

Read from the kernel: each thread's blocked-signal mask (`SigBlk` in /proc), for every thread
of a fresh process running a pool with its monitor endpoint, alerting and resource sampling,
and a monitor's client thread, numpy's own included. And end to end: a script sleeping in its
main thread, with a SIGTERM handler of its own, stops at once when the signal comes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="needs /proc to read thread signal masks"
)

PROCESS_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGWINCH)


_MASKS = """
import os, signal, sys, threading, time
from poolmon import Pool
from poolmon.runtime.monitor import Monitor

sock = sys.argv[1]
with Pool(1, name="sigmask", monitor=sock) as pool:
    pool.wait_ready(30)
    monitor = Monitor(sock)
    monitor.start()
    while "poolmon-monitor" not in {t.name for t in threading.enumerate()}:
        time.sleep(0.05)
    names = {t.native_id: t.name for t in threading.enumerate()}
    for tid in sorted(os.listdir("/proc/self/task"), key=int):
        status = open(f"/proc/self/task/{tid}/status").read().splitlines()
        mask = next(line.split()[1] for line in status if line.startswith("SigBlk:"))
        print(names.get(int(tid), "native"), mask, flush=True)
    monitor.stop()
"""


def test_every_thread_but_the_main_one_blocks_process_signals(short_dir: Path) -> None:
    """Run in a fresh process: numpy's BLAS threads exist from the first import on."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_MASKS), str(short_dir / "sig.sock")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    threads = [(name, int(mask, 16)) for name, mask in (line.split() for line in out.splitlines())]
    names = [name for name, _ in threads]
    assert names[0] == "MainThread"
    assert {"poolmon-endpoint", "poolmon-io-sigmask", "poolmon-monitor"} <= set(names)
    assert "native" in names  # numpy's BLAS thread (started on import, unknown to threading)

    def blocks(mask: int, signum: int) -> bool:
        return bool(mask >> (signum - 1) & 1)

    for name, mask in threads[1:]:
        assert all(blocks(mask, s) for s in PROCESS_SIGNALS), name
        assert not blocks(mask, signal.SIGSEGV), name  # faults stay with their thread
    assert not any(blocks(threads[0][1], s) for s in PROCESS_SIGNALS)


_SCRIPT = """
import signal, sys, time
from poolmon import Pool

def handler(signum, frame):
    raise SystemExit(7)
signal.signal(signal.SIGTERM, handler)
pools = [Pool(1, name=f"sig{i}", monitor=sys.argv[1] + str(i)) for i in range(3)]
print("ready", flush=True)
time.sleep(120)
"""


def test_a_sleeping_script_stops_at_once_on_its_sigterm(short_dir: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT), str(short_dir / "s")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # three pools' threads running, the main thread asleep
        sent = time.monotonic()
        os.kill(child.pid, signal.SIGTERM)
        assert child.wait(60) == 7
        # the handler ran when the signal came, not when the sleep ended (120 s);
        # the time left is the pools' shutdown at exit
        assert time.monotonic() - sent < 30
    finally:
        if child.poll() is None:
            child.kill()
