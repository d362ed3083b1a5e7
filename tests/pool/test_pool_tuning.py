"""Run-time settings on a real pool: values applied, refusals change nothing, per-op timeouts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pool_test_tasks as t
import pytest

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.errors import QueueFull, TaskTimeout, WorkerCrashed, WorkerKilled

pytestmark = pytest.mark.integration

MakePool = Callable[..., Pool]


def values(pool: Pool) -> dict[str, object]:
    return {s.key: s.value for s in pool.settings()}


def test_settings_describe_every_setting_with_the_pools_own_ranges(make_pool: MakePool) -> None:
    pool = make_pool(2, min_size=1, max_size=6, task_timeout=30.0, max_queue=100)
    specs = {s.key: s for s in pool.settings()}
    for key in (
        "size",
        "min_size",
        "max_size",
        "task_timeout_s",
        "health_check_interval_s",
        "recycle_after_tasks",
        "recycle_above_rss_mib",
        "queue_bound",
        "on_queue_full",
        "telemetry_sample_rate",
    ):
        assert key in specs, key
        assert specs[key].help
        assert specs[key].live
    assert (specs["size"].value, specs["size"].min, specs["size"].max) == (2, 1, 6)
    assert specs["task_timeout_s"].value == 30.0
    assert specs["task_timeout_s"].nullable
    assert specs["queue_bound"].value == 100
    assert specs["on_queue_full"].choices == ("raise", "block")
    assert specs["recycle_after_tasks"].value is None
    wire = specs["size"].to_wire()
    assert {"key", "value", "min", "max", "choices", "unit", "help", "live"} <= set(wire)


def test_set_applies_every_value_and_reports_from_to(make_pool: MakePool) -> None:
    pool = make_pool(2, max_size=6)
    changed = pool.apply_settings(
        {
            "size": 3,
            "max_size": 5,
            "task_timeout_s": 12.5,
            "health_check_interval_s": 0.25,
            "recycle_after_tasks": 1000,
            "recycle_above_rss_mib": 512,
            "queue_bound": 50,
            "on_queue_full": "block",
            "telemetry_sample_rate": 0.1,
        }
    )
    assert changed["size"] == (2, 3)
    assert changed["max_size"] == (6, 5)
    assert changed["task_timeout_s"] == (None, 12.5)
    assert changed["on_queue_full"] == ("raise", "block")
    assert pool.size == 3
    assert pool.max_size == 5
    st = pool.stats()
    assert st.task_timeout_s == 12.5
    assert st.health_check_interval_s == 0.25
    assert st.max_queue == 50
    assert pool._cfg.max_tasks_per_worker == 1000
    assert pool._cfg.max_memory_per_worker == 512 << 20
    assert pool._cfg.on_queue_full == "block"
    assert pool.telemetry.task_sample_every == 10
    assert values(pool)["telemetry_sample_rate"] == 0.1
    # the same values again change nothing and report nothing
    assert pool.apply_settings({"size": 3, "queue_bound": 50}) == {}


def test_one_bad_value_refuses_the_whole_set_and_changes_nothing(make_pool: MakePool) -> None:
    pool = make_pool(2, max_size=6)
    before = values(pool)
    with pytest.raises(ConfigError) as info:
        pool.apply_settings({"size": 4, "task_timeout_s": 0.0001, "bogus": 1})
    text = str(info.value)
    assert "task_timeout_s=0.0001 is outside 0.01..604800" in text
    assert "unknown setting 'bogus'" in text
    with pytest.raises(ConfigError, match=re.escape("size=7 is outside 1..6 workers")):
        pool.apply_settings({"size": 7})
    with pytest.raises(ConfigError, match="size 4 would be above max_size 3"):
        pool.apply_settings({"size": 4, "max_size": 3})
    with pytest.raises(ConfigError, match=re.escape("must be one of raise | block")):
        pool.apply_settings({"on_queue_full": "drop"})
    with pytest.raises(ConfigError, match="must be a whole number"):
        pool.apply_settings({"queue_bound": 2.5})
    assert values(pool) == before
    assert pool.size == 2


def test_bounds_and_size_change_together(make_pool: MakePool) -> None:
    pool = make_pool(2, min_size=1, max_size=4)
    assert pool.apply_settings({"min_size": 3, "size": 3, "max_size": 3}) == {
        "min_size": (1, 3),
        "size": (2, 3),
        "max_size": (4, 3),
    }
    assert (pool.min_size, pool.size, pool.max_size) == (3, 3, 3)
    with pytest.raises(ConfigError):
        pool.resize(2)  # the new bounds hold for resize too
    pool.apply_settings({"min_size": 1, "size": 1, "max_size": 8})
    assert (pool.min_size, pool.size, pool.max_size) == (1, 1, 8)


def test_per_op_timeout_kills_only_that_op(make_pool: MakePool) -> None:
    pool = make_pool(2)
    assert pool.apply_settings({"op_timeout_s.slow": 0.3}) == {"op_timeout_s.slow": (None, 0.3)}
    assert "op_timeout_s.slow" in values(pool)
    slow = pool.options(op="slow").submit(t.sleep_pid, 5.0)
    other = pool.options(op="other").submit(t.sleep_pid, 0.8)  # no timeout: runs to the end
    with pytest.raises(TaskTimeout) as info:
        slow.result(timeout=10)
    assert info.value.op == "slow"
    assert info.value.timeout == pytest.approx(0.3)
    assert isinstance(other.result(timeout=10), int)
    # a per-call timeout still wins over the op's
    fine = pool.options(op="slow", timeout=5.0).submit(t.sleep_pid, 0.6)
    assert isinstance(fine.result(timeout=10), int)
    # removing it goes back to the default (none): the op may run long again
    assert pool.apply_settings({"op_timeout_s.slow": None}) == {"op_timeout_s.slow": (0.3, None)}
    assert isinstance(pool.options(op="slow").submit(t.sleep_pid, 0.6).result(timeout=10), int)


def test_per_op_timeout_overrides_the_default(make_pool: MakePool) -> None:
    pool = make_pool(1, task_timeout=0.2)
    pool.apply_settings({"op_timeout_s.long": 5.0})
    assert isinstance(pool.options(op="long").submit(t.sleep_pid, 0.6).result(timeout=10), int)
    with pytest.raises(TaskTimeout):
        pool.submit(t.sleep_pid, 3.0).result(timeout=10)


def test_kill_worker_fails_its_task_with_an_operator_message(make_pool: MakePool) -> None:
    pool = make_pool(2)
    fut = pool.submit(t.sleep_pid, 120)
    deadline = time.monotonic() + 10
    busy = None
    while busy is None and time.monotonic() < deadline:
        busy = next((w for w in pool.stats().workers if w.current_task_id is not None), None)
        time.sleep(0.01)
    assert busy is not None
    pool.kill_worker(busy.worker_id)
    with pytest.raises(WorkerKilled) as info:
        fut.result(timeout=10)
    assert isinstance(info.value, WorkerCrashed)
    assert "an operator killed worker" in str(info.value)
    assert f"worker {busy.worker_id}" in str(info.value)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st = pool.stats()
        if len(st.workers) == 2 and all(w.worker_id != busy.worker_id for w in st.workers):
            break
        time.sleep(0.02)
    st = pool.stats()
    assert len(st.workers) == 2, "the slot is refilled"
    exits = [w.last_exit for w in st.workers if w.last_exit is not None]
    assert any(e.worker_id == busy.worker_id and e.reason == "killed" for e in exits)
    with pytest.raises(ConfigError, match="no live worker"):
        pool.kill_worker(busy.worker_id)
    assert isinstance(pool.submit(t.sleep_pid, 0).result(timeout=10), int)


def test_queue_bound_and_policy_change_live(make_pool: MakePool) -> None:
    pool = make_pool(1)
    blocker = pool.submit(t.sleep_pid, 1.0)
    time.sleep(0.1)
    pool.apply_settings({"queue_bound": 1})
    queued = [pool.submit(t.sleep_pid, 0)]

    def fill() -> None:
        for _ in range(50):  # the worker's pipeline may take a couple first
            queued.append(pool.submit(t.sleep_pid, 0))

    with pytest.raises(QueueFull):
        fill()
    pool.apply_settings({"queue_bound": None})
    queued.extend(pool.submit(t.sleep_pid, 0) for _ in range(20))  # unbounded again
    assert blocker.result(timeout=10)
    assert all(isinstance(f.result(timeout=10), int) for f in queued)


def test_lowering_recycle_after_tasks_retires_workers_past_it(make_pool: MakePool) -> None:
    pool = make_pool(1)
    first = {pool.submit(t.sleep_pid, 0).result(timeout=10) for _ in range(5)}
    assert len(first) == 1
    pool.apply_settings({"recycle_after_tasks": 2})
    pids = {pool.submit(t.sleep_pid, 0).result(timeout=10) for _ in range(6)}
    assert first.isdisjoint(pids), "the worker past the new limit was replaced"
    assert len(pids) >= 3


def test_a_shut_down_pool_refuses_changes(make_pool: MakePool) -> None:
    pool = make_pool(1)
    pool.shutdown()
    with pytest.raises(ConfigError, match="the pool is shut down; nothing was changed"):
        pool.apply_settings({"size": 2})
    assert values(pool)["size"] == 1
