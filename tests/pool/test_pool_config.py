"""Bad settings fail at construction with a ConfigError naming the parameter; none start workers."""

from __future__ import annotations

import pytest

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import Pool, TaskOptions


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_workers": 0}, "max_workers"),
        ({"max_workers": "2"}, "max_workers"),
        ({"max_workers": 5, "max_size": 4}, "max_workers"),
        ({"min_size": 3, "max_size": 2}, "max_size"),
        ({"min_size": -1}, "min_size"),
        ({"start_method": "threads"}, "start_method"),
        ({"max_queue": 0}, "max_queue"),
        ({"on_queue_full": "drop"}, "on_queue_full"),
        ({"queue_timeout": -1}, "queue_timeout"),
        ({"task_timeout": 0}, "task_timeout"),
        ({"task_timeout": float("inf")}, "task_timeout"),
        ({"health_check_interval": 0}, "health_check_interval"),
        ({"health_check_timeout": "1"}, "health_check_timeout"),
        ({"health_check_max_misses": 0}, "health_check_max_misses"),
        ({"max_tasks_per_worker": 0}, "max_tasks_per_worker"),
        ({"max_memory_per_worker": 1000}, "max_memory_per_worker"),
        ({"session_affinity": "sticky"}, "session_affinity"),
        ({"session_ttl": 0}, "session_ttl"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"flush_interval": -0.1}, "flush_interval"),
        ({"name": ""}, "name"),
        ({"monitor": ""}, "monitor"),
    ],
)
def test_bad_settings_raise_config_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Pool(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"affinity": "sometimes"},
        {"timeout": -1},
        {"timeout": "1"},
        {"retries": -1},
        {"retries": 2},  # without idempotent=True
        {"session": 5},
    ],
)
def test_bad_task_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TaskOptions(**kwargs)  # type: ignore[arg-type]


def test_properties_and_monitor_setting(make_pool) -> None:  # type: ignore[no-untyped-def]
    import os
    import time

    pool: Pool = make_pool(2, name="props", min_size=1, max_size=3, monitor="/tmp/x.sock")
    assert (pool.name, pool.size, pool.min_size, pool.max_size) == ("props", 2, 1, 3)
    assert pool.pid == os.getpid()
    assert pool.start_method == "forkserver"
    assert pool.monitor == "/tmp/x.sock"
    assert 0 < pool.started_at_ns <= time.time_ns()
    s = pool.stats()
    assert s.name == "props"
    assert len(s.workers) == 2
    assert {w.slot for w in s.workers} == {0, 1}
    assert all(w.state == "ready" for w in s.workers)
    assert "props" in repr(pool)


def test_a_main_read_from_stdin_is_refused_with_the_reason() -> None:
    import subprocess
    import sys

    script = (
        "import poolmon\n"
        "from poolmon.bench.tasks import ident\n"
        "try:\n"
        "    poolmon.Pool(1, monitor=False)\n"
        "except poolmon.core.errors.ConfigError as e:\n"
        "    print('refused:', e)\n"
        "with poolmon.Pool(1, monitor=False, start_method='fork') as p:\n"
        "    print('fork:', p.submit(ident, 7).result(20))\n"
    )
    out = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=60
    )
    assert "refused: start_method='forkserver'" in out.stdout, out.stderr
    assert "'<stdin>'" in out.stdout
    assert "fork: 7" in out.stdout, out.stderr
