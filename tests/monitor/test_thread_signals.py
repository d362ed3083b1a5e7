"""poolmon's threads leave process signals to the main thread (`poolmon.runtime.threads`).

Read from the kernel: each thread's blocked-signal mask (`SigBlk` in /proc), for every thread a
pool with its monitor endpoint, alerting and resource sampling starts, and for a monitor's
client thread. And end to end: a script sleeping in its main thread, with a SIGTERM handler
of its own, stops at once when the signal comes, however many poolmon threads exist.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from poolmon import Pool
from poolmon.runtime.monitor import Monitor

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="needs /proc to read thread signal masks"
)

PROCESS_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGWINCH)


def blocked(native_id: int) -> set[int]:
    """The signals a thread of this process blocks (from its SigBlk mask)."""
    for line in Path(f"/proc/self/task/{native_id}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask >> (n - 1) & 1}
    raise AssertionError("no SigBlk line")


def poolmon_threads() -> dict[str, int]:
    return {
        t.name: t.native_id
        for t in threading.enumerate()
        if t.name.startswith("poolmon-") and t.native_id is not None
    }


def test_every_poolmon_thread_blocks_process_signals_and_the_main_thread_does_not(
    short_dir: Path,
) -> None:
    sock = short_dir / "sig.sock"
    with Pool(1, name="sigmask", monitor=sock) as pool:
        pool.wait_ready(30)
        monitor = Monitor(sock)
        monitor.start()
        try:
            deadline = time.monotonic() + 10
            while "poolmon-monitor" not in poolmon_threads():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            threads = poolmon_threads()
            assert {"poolmon-endpoint", "poolmon-io-sigmask", "poolmon-monitor"} <= set(threads)
            for name, tid in threads.items():
                assert set(PROCESS_SIGNALS) <= blocked(tid), name
                assert signal.SIGSEGV not in blocked(tid), name  # faults stay with their thread
        finally:
            monitor.stop()
    main = threading.main_thread().native_id
    assert main is not None
    assert not set(PROCESS_SIGNALS) & blocked(main)


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
