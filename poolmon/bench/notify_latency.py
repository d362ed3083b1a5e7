"""How long from an alert condition turning true to the webhook POST arriving (issue #11 figure).

Two measurements, side by side, each the median over repetitions:

* `task_fail_to_webhook_ms` - the whole path a user has: a real `Pool(alerts=RULE_FILE)` whose
  rule file has a `for = 0` rule on failed tasks and a webhook channel to a loopback
  `http.server`; from the failing task's completion (its future's done-callback, in this
  process) to the POST received (this process too, so one `perf_counter_ns` serves both). It
  includes the pool's insight lag: task figures reach the pool's own aggregator when their
  second's rollup closes, 2-3 s later (`poolmon.runtime.insight`), and rules are evaluated once
  a second.
* `fire_to_webhook_ms` - the issue's "condition true -> POST received": from the evaluation at
  which the rule first fires (the real `AlertEngine` over a real `Aggregator`, fed by
  `poolmon.testing.PoolFeed`) through `Notifier.update`, the notifier's thread and channel
  worker, to the POST received.

Run: `python -m poolmon.bench.notify_latency [--reps N] [--pool-reps N] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from poolmon.core.alerts.engine import AlertEngine
from poolmon.core.alerts.model import FIRING
from poolmon.core.alerts.notify_model import (
    ChannelConfig,
    NotifyConfig,
    RateLimit,
    Timing,
    WebhookSettings,
)
from poolmon.core.alerts.rules import Rule, RuleSet
from poolmon.runtime.alerting.notifier import Notifier
from poolmon.testing.pool_feed import OpKnobs, PoolFeed, PoolKnobs

TARGET_MS = 1500.0
"""Issue #11: condition true with `for: 0` -> POST received, at most this (median)."""

RULE = Rule(
    name="TasksFailing",
    kind="threshold",
    metric="tasks_failed",
    window_s=10,
    op=">",
    value=0.0,
    for_s=0.0,
    severity="critical",
    annotations=(("summary", "{value} tasks failed in 10s"),),
)


class WebhookSink:
    """A loopback HTTP receiver that records when each POST's body has fully arrived."""

    def __init__(self) -> None:
        self.arrived: list[int] = []
        self.got = threading.Event()
        self._lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free loopback port for the `with` block; yields the URL to POST to."""
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.perf_counter_ns()
                with sink._lock:
                    sink.arrived.append(now)
                sink.got.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/hook"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


def _config(url: str) -> NotifyConfig:
    timing = Timing(group_wait_s=0.0, group_interval_s=1.0, repeat_interval_s=3600.0)
    channel = ChannelConfig(
        name="bench",
        kind="webhook",
        settings=WebhookSettings(url=url),
        timing=timing,
        rate=RateLimit(per_minute=0, burst=1),
        timeout_s=5.0,
    )
    return NotifyConfig(timing=timing, channels=(channel,))


def _one(url: str, sink: WebhookSink, seed: int) -> float:
    """One repetition: healthy seconds, then failures; ms from the firing tick to the POST."""
    knobs = PoolKnobs(workers=8, ops={"work": OpKnobs(200, 0.01, 0.3, 0.0)})
    feed = PoolFeed(knobs, seed=seed)
    engine = AlertEngine(RuleSet((RULE,)), pool="bench")
    errors: list[str] = []
    notifier = Notifier(_config(url), "bench", on_error=lambda m, e: errors.append(m))
    notifier.start()
    try:
        for _ in range(5):
            view = engine.evaluate(feed.agg, feed.step())
            notifier.update(view)
        if any(a.state == FIRING for a in view.alerts):
            raise RuntimeError("the healthy pool fired before any task failed")
        knobs.ops["work"].error_rate = 0.2
        sink.got.clear()
        with sink._lock:
            sink.arrived.clear()
        for _ in range(10):
            now = feed.step()
            start = time.perf_counter_ns()
            view = engine.evaluate(feed.agg, now)
            notifier.update(view)
            if any(a.state == FIRING for a in view.alerts):
                break
        else:
            raise RuntimeError("the rule never fired")
        if not sink.got.wait(10):
            raise RuntimeError(f"no POST within 10 s: {errors or 'no error reported'}")
        with sink._lock:
            return (sink.arrived[0] - start) / 1e6
    finally:
        notifier.stop(2)


RULE_FILE = """\
include_defaults = false

[[rules]]
name = "TasksFailing"
kind = "threshold"
metric = "tasks_failed"
window = "10s"
op = ">"
value = 0
for = "0s"
severity = "critical"

[notify]
group_wait = 0

[[channels]]
name = "bench"
kind = "webhook"
url = "{url}"
rate_per_minute = 0
"""


def fail(message: str) -> None:
    """The failing task (module level, so workers can import it)."""
    raise ValueError(message)


def _one_pool(url: str, sink: WebhookSink, rep: int) -> float:
    """One repetition through a real pool: ms from the failed task's completion to the POST."""
    from poolmon.runtime.pool import Pool

    with tempfile.TemporaryDirectory(prefix="poolmon-bench-") as d:
        rules = Path(d) / "alerts.toml"
        rules.write_text(RULE_FILE.format(url=url))
        pool = Pool(
            1,
            name=f"notify-bench-{os.getpid()}-{rep}",
            monitor=str(Path(d) / "pool.sock"),
            alerts=str(rules),
            alert_state_dir=d,
            resource_interval=None,
        )
        try:
            if not pool.wait_ready(30):
                raise RuntimeError("the pool did not start within 30 s")
            time.sleep(1.5)  # a second or two of evaluations with nothing failing
            sink.got.clear()
            with sink._lock:
                sink.arrived.clear()
            done: list[int] = []
            future = pool.submit(fail, "bench")
            future.add_done_callback(lambda f: done.append(time.perf_counter_ns()))
            if future.exception(30) is None:
                raise RuntimeError("the failing task did not fail")
            if not sink.got.wait(15):
                raise RuntimeError("no POST within 15 s of the failed task")
            with sink._lock:
                return (sink.arrived[0] - done[0]) / 1e6
        finally:
            pool.shutdown(wait=True)


def _summary(name: str, samples: list[float]) -> dict[str, float]:
    return {
        f"{name}_ms": statistics.median(samples),
        f"{name}_min_ms": min(samples),
        f"{name}_max_ms": max(samples),
    }


def measure_fire_to_webhook(reps: int, pool_reps: int | None = None) -> dict[str, float]:
    """Both figures (module doc): medians, minima and maxima in ms, and the repetitions.

    Args:
        reps: Repetitions of the engine -> notifier -> POST path (cheap).
        pool_reps: Repetitions through a real pool (a pool start each); default
            `min(reps, 5)`, 0 to skip.
    """
    pool_reps = min(reps, 5) if pool_reps is None else pool_reps
    sink = WebhookSink()
    with sink.serving() as url:
        fired = [_one(url, sink, seed=i + 1) for i in range(reps)]
        pooled = [_one_pool(url, sink, i) for i in range(pool_reps)]
    out = _summary("fire_to_webhook", fired)
    if pooled:
        out |= _summary("task_fail_to_webhook", pooled)
    return out | {"reps": float(reps), "pool_reps": float(pool_reps), "target_ms": TARGET_MS}


def main(argv: list[str] | None = None) -> int:
    """Print the figures (JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m poolmon.bench.notify_latency")
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--pool-reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure_fire_to_webhook(args.reps, args.pool_reps)
    if args.json:
        print(json.dumps({"suite": "notify_latency", "figures": figures}, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:28} {value:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
