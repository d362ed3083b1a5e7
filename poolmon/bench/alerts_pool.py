"""Fire-to-webhook in a real pool: the alert service, the notifier and a loopback HTTP receiver.

`measure_pool_fire_to_webhook(reps)` starts one real pool (2 forkserver workers, its monitor
endpoint, the alert service) with a rule file whose `for = 0` rule fires when an operation
fails, and whose one channel is a webhook to a loopback `http.server` in this process
(`group_wait = 0`, grouped by `op` so every repetition is its own group, resolutions not sent
so every POST is a new firing). Each repetition makes
a new operation fail once and measures two spans on this process's wall clock:

* ``fire_to_webhook_ms``: from the evaluation tick that fired the alert (the alert's
  `fired_at_ns`, the time the pool's hook was called with) to the POST's body received: the
  engine's evaluation, the service, the notifier's thread, the channel worker and the HTTP
  round trip. This is the issue's "condition true with `for: 0` -> POST received": the
  condition is true, for the engine, at the first evaluation that sees the failure.
* ``task_failure_to_webhook_ms``: from the failing task's result to the POST, for what a user
  waits in all. It adds the insight feed's lag: task figures reach the pool's aggregator when
  the endpoint history closes their second (0.5 s after it ends, poolmon/runtime/insight.py),
  and the evaluation tick follows it.

The notifier's own figure without a pool (a synthetic feed) is `poolmon.bench.notify_latency`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poolmon.bench.notify_latency import WebhookSink

if TYPE_CHECKING:
    from poolmon.runtime.alerting.service import AlertService
    from poolmon.runtime.pool import Pool

RULES = """
[[rules]]
name = "BenchOpFailing"
kind = "threshold"
metric = "error_rate"
by = "op"
window = "10s"
op = ">"
value = 0
for = "0s"
severity = "critical"

[notify]
group_by = ["alertname", "op"]
group_wait = "0s"
group_interval = "1s"

[[channels]]
name = "bench"
kind = "webhook"
url = "{url}"
send_resolved = false   # every POST is then a new firing (earlier ops resolve meanwhile)
rate_per_minute = 0
burst = 1
"""


@contextmanager
def alerting_pool(name: str, alerts: str | None = None) -> Iterator[tuple[Pool, AlertService]]:
    """A ready 2-worker pool with its own endpoint and alert service, state in a temp folder.

    Yields `(pool, pool.alerting)`; the pool is shut down on exit.
    """
    from poolmon.runtime.pool import Pool
    from poolmon.runtime.telemetry import Telemetry

    with tempfile.TemporaryDirectory(prefix="pmbench") as tmp:
        pool = Pool(
            2,
            name=name,
            telemetry=Telemetry(),
            monitor=str(Path(tmp) / f"{name}.sock"),
            alerts=alerts,
            alert_state_dir=tmp,
        )
        try:
            pool.wait_ready(60)
            service = pool.alerting
            if service is None:
                raise RuntimeError("the pool did not start its alert service")
            yield pool, service
        finally:
            pool.shutdown(wait=True)


def _wait(condition: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (got := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout_s} s")
        time.sleep(0.005)
    return got


def measure_pool_fire_to_webhook(reps: int) -> dict[str, Any]:
    """Medians (and min/max) of both spans over `reps` failures in one real pool."""
    from poolmon.bench.tasks import fail

    sink = WebhookSink()
    fired: list[float] = []
    total: list[float] = []
    wall_minus_perf = time.time_ns() - time.perf_counter_ns()  # same process: one offset
    with sink.serving() as url, tempfile.TemporaryDirectory(prefix="pmhook") as tmp:
        rules = Path(tmp) / "rules.toml"
        rules.write_text(RULES.replace("{url}", url))
        with alerting_pool("bench-alert-hook", str(rules)) as (pool, service):
            for rep in range(reps):
                op = f"op{rep}"
                sink.got.clear()
                with sink._lock:
                    sink.arrived.clear()
                try:
                    pool.options(op=op).submit(fail, "bench").result(60)
                except ValueError:
                    failed_at = time.time_ns()
                _wait(sink.got.is_set, 30, f"POST for {op}")
                with sink._lock:
                    arrived = sink.arrived[0] + wall_minus_perf

                def fired_at(op: str = op) -> int | None:
                    for a in service.view.alerts:
                        if a.label_map.get("op") == op and a.fired_at_ns is not None:
                            return a.fired_at_ns
                    return None

                fired_ns = _wait(fired_at, 10, f"view of {op}")
                if arrived < fired_ns:
                    raise RuntimeError(f"a POST arrived before {op}'s alert fired: not its own")
                fired.append((arrived - fired_ns) / 1e6)
                total.append((arrived - failed_at) / 1e6)
    return {
        "fire_to_webhook_ms": round(statistics.median(fired), 1),
        "fire_to_webhook_min_ms": round(min(fired), 1),
        "fire_to_webhook_max_ms": round(max(fired), 1),
        "task_failure_to_webhook_ms": round(statistics.median(total), 1),
        "task_failure_to_webhook_max_ms": round(max(total), 1),
        "reps": reps,
        "target_ms": 1500,
    }
