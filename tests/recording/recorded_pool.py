"""A real pool recorded through the `poolmon record` command line, for the recording tests.

Why a helper module (not conftest): several test modules need the same recording of a real
pool, and pytest loads several conftests; this module has a unique name.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poolmon import Pool
from poolmon.bench.tasks import fail, ident
from poolmon.runtime.recording.writer import DEFER_S

REPO = str(Path(__file__).resolve().parents[2])


@dataclass
class Recorded:
    """What was recorded and what the pool itself counted."""

    path: Path
    succeeded: int
    failed: int
    stderr: str
    returncode: int


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_recorder(name: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    """`python -m poolmon record NAME -o PATH ...` with this environment; waits until it records."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "poolmon",
            "record",
            name,
            "-o",
            str(path),
            "--progress",
            "0",
            *extra,
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
        # the tests stop it with SIGINT, as Ctrl-C would: a suite started in the background
        # by a shell ignores SIGINT, and the recorder would inherit that and never stop
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 30
    while not path.exists() or path.stat().st_size == 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"recorder did not start: {proc.communicate()[1]}")
        time.sleep(0.05)
    time.sleep(0.5)  # attached: the backfill is in
    return proc


def run_load(pool: Pool, ok: int, failing: int) -> None:
    """`ok` trivial tasks and `failing` ValueErrors, in bursts, all waited for."""
    futures = [pool.submit(fail, f"bad {i}") for i in range(failing)]
    for start in range(0, ok, 500):
        for f in [pool.submit(ident, i) for i in range(start, min(ok, start + 500))]:
            f.result()
        time.sleep(0.02)
    for f in futures:
        f.exception()


def record_real_pool(folder: Path, ok: int = 3000, failing: int = 40) -> Recorded:
    """Record a real pool (in this process) while it runs a known load; stop with Ctrl-C."""
    path = folder / "real.pmrec"
    pool = Pool(2, name="recorded", alerts=False)
    try:
        pool.wait_ready(30)
        proc = start_recorder("recorded", path)
        run_load(pool, ok, failing)
        time.sleep(1.5 + DEFER_S)  # the endpoint flushes; blocks are written, idle CPU or not
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        totals = pool.stats().totals
        return Recorded(path, totals.succeeded, totals.failed, err, proc.returncode)
    finally:
        pool.shutdown()


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run
