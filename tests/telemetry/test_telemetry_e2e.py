"""Every catalog event, seen in one real pool scenario with fields as documented.

One module-scoped scenario drives a real pool (forkserver workers, its own monitor endpoint and
resource sampler, as shipped) through normal work, a failing task, a user event emitted inside
a task, a 50 ms task, a timeout, a crash, a resize up and down, a failing control operation, a
full queue, session routing, monitor commands over the endpoint socket (resize, recycle, alert
ack of the alert the failing task fired), resource sweeps and a shutdown, with raising handlers
attached throughout. The tests then check the capture.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import telemetry_e2e_tasks as tasks

from poolmon.core import catalog as cat
from poolmon.core.catalog_entries import BY_NAME, CATALOG
from poolmon.core.errors import ConfigError
from poolmon.core.events import Event
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import Captured, capture_events

pytestmark = pytest.mark.integration

POOL = "telemetry-e2e"
RULES = """
[[rules]]
name = "TaskFailed"
kind = "threshold"
metric = "error_rate"
by = "op"
window = "30s"
op = ">"
value = 0
for = "0s"
"""


@dataclass
class Scenario:
    captured: Captured
    results: dict[str, Any] = field(default_factory=dict)
    worker_pids: set[int] = field(default_factory=set)


def _raising_handler(name: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> None:
    raise RuntimeError(f"handler bug on {name}")


def _raising_batch_handler(batch: Any, md: Mapping[str, Any]) -> None:
    raise ZeroDivisionError("batch handler bug")


def _pids(pool: Any) -> set[int]:
    return {w.pid for w in pool.stats().workers}


def _routed(captured: Captured) -> int:
    return sum(
        e.measurements["hits"] + e.measurements["misses"] for e in captured.of(cat.SESSION_AFFINITY)
    )


def _sampled_workers(captured: Captured) -> set[int]:
    return {e.metadata["worker_id"] for e in captured.of(cat.RESOURCE_PROCESS)}


def _firing_alert_id(pool: Any) -> str:
    """The id of the alert the failing task fired (waits for its second's rollup to close)."""
    found: list[str] = []

    def firing() -> bool:
        found[:] = [a.id for a in pool.alerting.view.alerts if a.state == "firing"]
        return bool(found)

    _wait_until(firing, timeout=20.0)
    return found[0]


def _wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    from poolmon.runtime.client import MonitorClient
    from poolmon.runtime.pool import Pool
    from poolmon.runtime.pool.errors import QueueFull, TaskTimeout, WorkerCrashed

    tel = Telemetry()
    sock = Path(str(tmp_path_factory.mktemp("sock"))) / "e2e.sock"
    rules = Path(str(tmp_path_factory.mktemp("alerts"))) / "rules.toml"
    rules.write_text(RULES)
    with capture_events(telemetry=tel) as captured:
        tel.attach("buggy", "poolmon.worker.ready", _raising_handler)
        tel.attach_batch("buggy-batch", _raising_batch_handler)
        scenario = Scenario(captured)
        res = scenario.results
        pool = Pool(
            2,
            name=POOL,
            telemetry=tel,
            monitor=str(sock),  # the pool's own endpoint and resource sampler, as shipped
            resource_interval=0.2,
            max_queue=6,
            health_check_interval=0.1,
            alerts=str(rules),  # fires when "boom 7" fails; acknowledged over the socket below
            alert_state_dir=str(rules.parent),
        )
        try:
            assert pool.wait_ready(30)
            scenario.worker_pids |= _pids(pool)
            res["ident"] = []
            for base in range(0, 50, 5):  # max_queue=6 bounds what may wait at once
                futures = [pool.submit(tasks.ident, base + i) for i in range(5)]
                res["ident"] += [f.result(30) for f in futures]
            res["user_pid"] = pool.submit(tasks.emit_user_event, "k1").result(30)
            with pytest.raises(ValueError, match="boom 7"):
                pool.submit(tasks.fail, "boom 7").result(30)
            # time.sleep itself: unpickling it imports nothing, so the duration is the task's
            # alone. Three in a row: on this shared machine a woken worker sometimes waits
            # 20-30 ms for a CPU, which is the scheduler, not the measurement.
            for _ in range(3):
                pool.options(op="sleep50").submit(time.sleep, 0.05).result(30)
            with pytest.raises(TaskTimeout):
                pool.options(timeout=0.3, op="hang").submit(tasks.sleep_for, 30).result(30)
            with pytest.raises(WorkerCrashed):
                pool.options(op="crash").submit(tasks.crash).result(30)
            assert pool.wait_ready(30)
            for _ in range(3):
                pool.options(session="s1").submit(tasks.ident, 1).result(30)
            with pytest.raises(ConfigError, match="no live worker"):
                pool.recycle_worker(10**9)  # a control operation that fails
            pool.resize(3)
            assert pool.wait_ready(30)
            scenario.worker_pids |= _pids(pool)
            pool.resize(2)
            blockers = []
            with pytest.raises(QueueFull):  # noqa: PT012 - fill until the bound bites
                for _ in range(500):
                    blockers.append(pool.submit(tasks.sleep_for, 0.01))
            wait(blockers, timeout=60)
            with MonitorClient(sock, client="e2e") as client:
                client.connect(subscribe=False)
                res["cmd_resize"] = client.command("resize", {"size": 4})
                res["alert_id"] = _firing_alert_id(pool)
                res["cmd_ack"] = client.command("ack_alert", {"alert_id": res["alert_id"]})
                worker_id = pool.stats().workers[0].worker_id
                res["cmd_recycle"] = client.command("recycle_worker", {"worker_id": worker_id})
                res["cmd_autotune"] = client.command("autotune", {"enabled": True})  # a decision
                client.command("autotune", {"enabled": False})
            assert pool.wait_ready(30)
            scenario.worker_pids |= _pids(pool)
            # periodic events: wait until the counts of the work above have been reported
            captured.wait_for(cat.POOL_STATUS, lambda e: e.measurements["tasks_done"] > 0)
            captured.wait_for(cat.QUEUE_ENQUEUED, lambda e: e.measurements["count"] > 0)
            _wait_until(lambda: _routed(captured) >= 3)
            captured.wait_for(cat.RESOURCE_MACHINE, timeout=10)
            captured.wait_for(cat.RESOURCE_INTERNALS, timeout=10)
            workers = {w.worker_id for w in pool.stats().workers}
            _wait_until(lambda: _sampled_workers(captured) >= workers | {-1})
        finally:
            pool.shutdown(wait=True)
        captured.wait_for(cat.POOL_TERMINATE, timeout=10)
        yield scenario


def _spec_ok(event: Event) -> list[str]:
    spec = BY_NAME[event.name]
    problems = []
    missing = set(spec.metadata) - set(event.metadata)
    if missing:
        problems.append(f"{event.name}: metadata missing {sorted(missing)}")
    extra = set(event.measurements) - set(spec.measurements)
    if extra:
        problems.append(f"{event.name}: undocumented measurements {sorted(extra)}")
    if spec.emitted_by != "resources":  # samplers leave out what they could not read
        absent = set(spec.measurements) - set(event.measurements)
        if absent:
            problems.append(f"{event.name}: measurements missing {sorted(absent)}")
    for key, value in event.measurements.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{event.name}.{key} is not a number: {value!r}")
    if event.metadata.get("pool") != POOL:
        problems.append(f"{event.name}: pool is {event.metadata.get('pool')!r}")
    return problems


def test_every_catalog_event_is_emitted(scenario: Scenario) -> None:
    seen = set(scenario.captured.names())
    if scenario.captured.tasks:
        seen |= {cat.TASK_START, cat.TASK_STOP}
    missing = [spec.name for spec in CATALOG if spec.name not in seen]
    assert not missing, f"catalog events never emitted in the scenario: {missing}"


def test_metadata_and_measurements_complete_per_catalog(scenario: Scenario) -> None:
    problems = []
    for event in scenario.captured.events:
        if event.name in BY_NAME:
            problems += _spec_ok(event)
    assert not problems, "\n".join(sorted(set(problems)))


def test_task_rows_cover_every_outcome(scenario: Scenario) -> None:
    rows = scenario.captured.tasks
    statuses = {r.status for r in rows}
    assert {"ok", "error", "timeout", "crashed"} <= statuses, statuses
    assert all(r.pool == POOL for r in rows)
    ok = [r for r in rows if r.op.endswith("ident") and r.status == "ok"]
    assert len(ok) >= 52
    for r in rows:
        assert r.duration_ns >= 0, r
        assert r.wait_ns >= 0, r
    err = next(r for r in rows if r.status == "error")
    assert err.error_type == "ValueError"


def test_task_rows_for_timeouts_and_crashes(scenario: Scenario) -> None:
    rows = scenario.captured.tasks
    by_op = {r.op: r for r in rows}
    assert by_op["hang"].status == "timeout"
    assert by_op["crash"].status == "crashed"
    assert by_op["hang"].duration_ns >= 300_000_000


def test_a_50ms_task_is_measured_at_50ms(scenario: Scenario) -> None:
    rows = [r for r in scenario.captured.tasks if r.op == "sleep50"]
    assert len(rows) == 3
    assert all(r.status == "ok" for r in rows)
    assert all(r.duration_ns >= 50_000_000 for r in rows), "a sleep cannot take less than asked"
    best = min(r.duration_ns for r in rows)  # scheduling delays only ever add time
    assert abs(best - 50_000_000) <= 2_000_000, [r.duration_ns for r in rows]
    now = time.time_ns()
    assert all(now - 120 * 10**9 < r.start_ns < now for r in rows), "start_ns is wall clock"


def test_task_exception_carries_type_message_traceback(scenario: Scenario) -> None:
    (event,) = scenario.captured.of(cat.TASK_EXCEPTION)
    md = event.metadata
    assert md["error_type"] == "ValueError"
    assert md["message"] == "boom 7"
    assert "raise ValueError(message)" in md["traceback"]
    assert md["worker_id"] is not None
    assert md["pid"] in scenario.worker_pids


def test_timeout_crash_and_recovery_are_explained(scenario: Scenario) -> None:
    cap = scenario.captured
    (timeout,) = cap.of(cat.TASK_TIMEOUT)
    assert timeout.measurements["timeout_ns"] == 300_000_000
    assert timeout.measurements["duration_ns"] >= 300_000_000
    exits = {e.metadata["reason"]: e for e in cap.of(cat.WORKER_EXIT)}
    assert {"timeout", "crash", "resize", "shutdown"} <= set(exits), sorted(exits)
    assert exits["crash"].metadata["signal"] == 9
    assert exits["crash"].measurements["lifetime_ns"] > 0
    replaced = [e for e in cap.of(cat.RECOVERY) if e.metadata["action"] == "replace_worker"]
    assert len(replaced) >= 2
    assert {e.metadata["reason"] for e in cap.of(cat.WORKER_SPAWN)} >= {"initial", "replace"}
    errors = [e for e in cap.of(cat.ERROR) if e.metadata["category"] != "telemetry"]
    assert errors, "a crash must surface as a poolmon.error"


def test_user_events_from_tasks_are_tagged_with_worker_and_pid(scenario: Scenario) -> None:
    (hit,) = scenario.captured.of("myapp.cache.hit")
    assert hit.metadata["key"] == "k1"
    assert hit.metadata["pid"] == scenario.results["user_pid"]
    assert hit.metadata["pool"] == POOL
    assert isinstance(hit.metadata["worker_id"], int)
    assert hit.measurements == {"count": 1}
    stop = scenario.captured.of("myapp.load.stop")[0]
    assert stop.metadata["worker_id"] == hit.metadata["worker_id"]


def test_raising_handlers_are_detached_reported_and_harmless(scenario: Scenario) -> None:
    reports = {
        e.metadata["handler_id"]: e
        for e in scenario.captured.of(cat.ERROR)
        if e.metadata["category"] == "telemetry"
    }
    assert set(reports) >= {"buggy", "buggy-batch"}
    assert "handler bug" in reports["buggy"].metadata["message"]
    assert "ZeroDivisionError" in reports["buggy-batch"].metadata["traceback"]
    assert scenario.results["ident"] == list(range(50))


def test_monitor_commands_become_events(scenario: Scenario) -> None:
    cap = scenario.captured
    commands = {e.metadata["command"]: e for e in cap.of(cat.CONTROL_COMMAND)}
    assert commands["resize"].metadata["result"] == "ok"
    assert commands["resize"].metadata["args"] == {"size": 4}
    assert any(e.measurements["to_size"] == 4 for e in cap.of(cat.POOL_RESIZE))
    assert commands["recycle_worker"].metadata["result"] == "ok"
    assert commands["ack_alert"].metadata["result"] == "ok"
    (ack,) = cap.of(cat.ALERT_ACK)
    assert ack.metadata["alert_id"] == scenario.results["alert_id"]
    states = cap.of(cat.ALERT_STATE)
    assert any(e.measurements["firing"] >= 1 for e in states)


def test_resize_by_a_monitor_says_control(scenario: Scenario) -> None:
    assert any(e.metadata["reason"] == "control" for e in scenario.captured.of(cat.POOL_RESIZE))


def test_control_operations_are_timed_spans(scenario: Scenario) -> None:
    cap = scenario.captured
    stops = {e.metadata["operation"] for e in cap.of(cat.POOL_OPERATION_STOP)}
    assert {"resize", "recycle_worker", "shutdown"} <= stops
    assert all(e.measurements["duration_ns"] > 0 for e in cap.of(cat.POOL_OPERATION_STOP))
    (failed,) = cap.of(cat.POOL_OPERATION_EXCEPTION)
    assert failed.metadata["operation"] == "recycle_worker"
    assert failed.metadata["error_type"] == "ConfigError"
    assert "no live worker" in failed.metadata["message"]
    assert "Traceback" in failed.metadata["traceback"]
    starts = len(cap.of(cat.POOL_OPERATION_START))
    assert starts == len(cap.of(cat.POOL_OPERATION_STOP)) + 1


def test_pool_init_describes_the_pool(scenario: Scenario) -> None:
    (init,) = scenario.captured.of(cat.POOL_INIT)
    assert init.measurements["size"] == 2
    assert init.measurements["startup_ns"] > 0
    assert init.metadata["pid"] == os.getpid()
    assert init.metadata["start_method"] == "forkserver"


def test_periodic_counts_add_up(scenario: Scenario) -> None:
    cap = scenario.captured
    enqueued = sum(e.measurements["count"] for e in cap.of(cat.QUEUE_ENQUEUED))
    submitted = max(e.measurements["tasks_submitted"] for e in cap.of(cat.POOL_STATUS))
    assert enqueued <= submitted
    assert _routed(cap) == 3
    assert sum(e.measurements["hits"] for e in cap.of(cat.SESSION_AFFINITY)) >= 1
    for status in cap.of(cat.POOL_STATUS):
        assert 0.0 <= status.measurements["utilization"] <= 1.0
    (terminate,) = cap.of(cat.POOL_TERMINATE)
    assert terminate.measurements["uptime_ns"] > 0


def test_the_pool_samples_its_own_resources(scenario: Scenario) -> None:
    cap = scenario.captured
    own = [e for e in cap.of(cat.RESOURCE_PROCESS) if e.metadata["worker_id"] == -1]
    assert own[0].metadata["pid"] == os.getpid()
    assert own[0].measurements["rss_bytes"] > 0
    workers = [e for e in cap.of(cat.RESOURCE_PROCESS) if e.metadata["worker_id"] >= 0]
    spawned = {e.metadata["pid"] for e in cap.of(cat.WORKER_SPAWN)}
    assert {e.metadata["pid"] for e in workers} <= spawned
    internals = cap.of(cat.RESOURCE_INTERNALS)[-1]
    assert internals.measurements["monitors"] >= 0
