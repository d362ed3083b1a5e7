"""The pool side of `python -m poolmon.bench soak`: a served pool under a mixed load, and its truth.

Run as `python -m poolmon.bench.soak_load SOCKET RATE`. It serves a pool at SOCKET and submits
trivial tasks at RATE per second plus the demo's operations (slow, failing, timing out,
crashing their worker), SIGKILLs a worker every minute, and counts every future's outcome
itself: that count is the ground truth the soak compares every observer with. It is
independent of the pool's own accounting, of telemetry and of the monitors.

It takes commands on stdin, one per line, and answers on stdout:

* `pause`: stop submitting, wait until every future is done, wait `SETTLE_S` so the last rows
  and the last closed second have reached the endpoint, then print one JSON line: the truth
  (`{"ops": {op: {"ok": n, "errors": {type: n}, "timeout": n, "crashed": n}}, ...}`) and the
  pool's own totals from `Pool.stats()`.
* `resume`: submit again.
* `quit` (or end of input): shut the pool down and exit.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from typing import Any

from poolmon.bench.memory_load import kill_one_worker
from poolmon.bench.tasks import ident
from poolmon.demo import workload as demo

SETTLE_S = 2.5
"""Seconds a pause waits after the last future: the 20 ms flush, the endpoint's 0.5 s close
grace for the last second, and a monitor's next frame, with room to spare on a loaded box."""
KILL_EVERY_S = 60.0
"""A worker is SIGKILLed this often, so crashes and replacements happen all along."""
SLICE_S = 0.02
"""Submission granularity: RATE is spread over slices of this length."""


class Truth:
    """Every future's outcome by operation, counted from the futures themselves."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ops: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"ok": 0, "errors": defaultdict(int), "timeout": 0, "crashed": 0}
        )
        self.pending = 0
        self.idle = threading.Condition(self.lock)

    def track(self, fut: Future[Any], op: str) -> None:
        """Count `fut`'s outcome under `op` when it completes."""
        with self.lock:
            self.pending += 1
        fut.add_done_callback(lambda f: self._done(f, op))

    def _done(self, fut: Future[Any], op: str) -> None:
        from poolmon.runtime.pool.errors import TaskTimeout, WorkerCrashed

        exc = None if fut.cancelled() else fut.exception()
        with self.lock:
            row = self.ops[op]
            if exc is None:
                row["ok"] += 1
            elif isinstance(exc, TaskTimeout):  # before TimeoutError: it is one
                row["timeout"] += 1
            elif isinstance(exc, WorkerCrashed):
                row["crashed"] += 1
            else:
                row["errors"][type(exc).__name__] += 1
            self.pending -= 1
            if not self.pending:
                self.idle.notify_all()

    def wait_idle(self, timeout_s: float = 120.0) -> bool:
        """Block until no future is outstanding (False on timeout)."""
        with self.lock:
            return self.idle.wait_for(lambda: self.pending == 0, timeout_s)

    def dump(self) -> dict[str, Any]:
        """The counts as plain JSON-able dicts."""
        with self.lock:
            return {op: {**row, "errors": dict(row["errors"])} for op, row in self.ops.items()}


def _mix(pool: Any) -> list[tuple[Any, str, Any, Any]]:
    """The demo operations, each `(submitter, op, fn, arg)`: failing, slow, timing out, crashing."""
    return [
        (pool.options(op="score_model"), "score_model", demo.score_model, 64),
        (pool.options(op="fetch_profile"), "fetch_profile", demo.fetch_profile, 7),
        (
            pool.options(op="render_report", timeout=0.25),  # ~1 % run past 0.25 s: TaskTimeout
            "render_report",
            demo.render_report,
            3,
        ),
    ]


def drive(
    pool: Any,
    truth: Truth,
    rate: float,
    paused: threading.Event,
    holding: threading.Event,
    stop: threading.Event,
) -> None:
    """Submit until `stop`; while `paused`, set `holding` and submit nothing.

    Trivial tasks at `rate`/s; the demo mix at one per slice (50/s): failing, slow, timing out;
    a leaking task every ~1.5 s on one session's worker, a native crash every ~20 s.
    """
    trivial = pool.options(op="trivial")
    mix = _mix(pool)
    crash = pool.options(op="flaky_native")
    leak = pool.options(op="warm_cache", session="leaky")  # one worker grows: an alert to see
    per_slice = max(1, int(rate * SLICE_S))
    n = 0
    tick = time.monotonic()
    next_kill = tick + KILL_EVERY_S
    while not stop.is_set():
        if paused.is_set():
            holding.set()
            time.sleep(0.01)
            tick = next_kill = time.monotonic()
            next_kill += KILL_EVERY_S
            continue
        holding.clear()
        for _ in range(per_slice):
            truth.track(trivial.submit(ident, n), "trivial")
            n += 1
        submit, op, fn, arg = mix[n % len(mix)]
        truth.track(submit.submit(fn, arg), op)
        if n % 3000 < per_slice:  # about every 1.5 s at 2,000/s
            truth.track(leak.submit(demo.warm_cache, n), "warm_cache")
        if n % 40_000 < per_slice:  # a native crash every ~20 s
            truth.track(crash.submit(demo.flaky_native, n), "flaky_native")
        tick += SLICE_S
        delay = tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            tick = time.monotonic()
        if time.monotonic() >= next_kill:
            next_kill += KILL_EVERY_S
            kill_one_worker(pool)


def _pool_totals(pool: Any) -> dict[str, int]:
    t = pool.stats().totals
    return {
        "submitted": t.submitted,
        "succeeded": t.succeeded,
        "failed": t.failed,
        "timed_out": t.timed_out,
        "crashed": t.crashed,
        "cancelled": t.cancelled,
    }


def main(argv: list[str]) -> int:
    """`SOCKET RATE`: serve, load, and answer `pause`/`resume`/`quit` on stdin."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    from poolmon import Pool

    truth = Truth()
    paused, holding, stop = threading.Event(), threading.Event(), threading.Event()
    with Pool(4, name="soak", monitor=argv[0]) as pool:
        driver = threading.Thread(
            target=drive, args=(pool, truth, float(argv[1]), paused, holding, stop), daemon=True
        )
        driver.start()
        print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "pause":
                holding.clear()
                paused.set()
                holding.wait(30)  # the driver has finished the slice it was in
                idle = truth.wait_idle()
                time.sleep(SETTLE_S)
                reply = {"idle": idle, "truth": truth.dump(), "pool": _pool_totals(pool)}
                print(json.dumps(reply), flush=True)
            elif cmd == "resume":
                paused.clear()
            elif cmd == "quit":
                break
        stop.set()
        driver.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
