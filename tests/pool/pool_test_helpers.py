"""Helpers for the pool tests (a uniquely named module: `conftest` is ambiguous across dirs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from poolmon.runtime.pool import Pool


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def pid_alive(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def describe_pool(pool: Pool) -> str:
    """The engine's view of a pool, for assertion messages when something hangs."""
    from poolmon.runtime.pool.ring import SLOT_COMMIT
    from poolmon.runtime.pool.worker_main import SLOT_BEAT, SLOT_SEQ

    eng = pool._eng
    now = time.monotonic_ns()
    lines = [
        f"pending={[f._seq for f in eng.pending]} sleeping={eng.sleeping} "
        f"fatal={eng.fatal!r} finished={eng.finished.is_set()} locked={eng.io_lock.locked()}"
    ]
    for w in eng.workers.values():
        lines.append(
            f"worker {w.wid} pid={w.pid} state={w.state} window={w.window} "
            f"inflight={[f._seq for f in w.inflight]} states={[f._state for f in w.inflight]} "
            f"out={len(w.out)} tail={len(w.out_tail)} rx={w.rx} commit={w.slot[SLOT_COMMIT]} "
            f"running={w.slot[SLOT_SEQ]} beat_age_ms={(now - w.slot[SLOT_BEAT]) / 1e6:.0f} "
            f"eof={w.eof} exited={w.exited} stop={w.stop_reason}"
        )
    return "\n".join(lines)
