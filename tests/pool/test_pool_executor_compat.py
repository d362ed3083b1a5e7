"""ProcessPoolExecutor code moves over unchanged: constructor, initializer, GC, the main guard.

Each test is one point of the Executor contract (issue #13); docs/POOL.md "Coming from
ProcessPoolExecutor" lists the deliberate differences.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pool_test_tasks as t
import pytest
from pool_test_helpers import pid_alive, wait_for

from poolmon.bench.tasks import ident
from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import InitializerFailed, Pool
from poolmon.runtime.telemetry import Telemetry

HERE = Path(__file__).parent


def test_the_process_pool_executor_signature_works_positionally(make_pool) -> None:  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("spawn")
    pool: Pool = make_pool(1, ctx, t.init_record, (1, "a"), max_tasks_per_child=2)
    assert pool.start_method == "spawn"
    seen = [pool.submit(t.pid_and_initialized).result(30) for _ in range(6)]
    # the initializer ran exactly once in every worker, replacements (every 2 tasks) included
    assert all(init == [(1, "a")] for _, init in seen)
    assert len({pid for pid, _ in seen}) == 3
    assert pool.stats().workers[0].last_exit.reason == "recycle_tasks"  # type: ignore[union-attr]


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_mp_context_maps_to_its_start_method(method: str) -> None:
    pool = Pool(1, mp_context=multiprocessing.get_context(method), monitor=False)
    try:
        assert pool.start_method == method
        assert pool.submit(ident, 2).result(30) == 2
    finally:
        pool.shutdown()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mp_context": "spawn"}, "mp_context must be a multiprocessing context"),
        (
            {"mp_context": multiprocessing.get_context("spawn"), "start_method": "fork"},
            "mp_context \\(start method 'spawn'\\) and start_method='fork' disagree",
        ),
        ({"initializer": 42}, "initializer must be a callable"),
        ({"initializer": t.init_record, "initargs": 5}, "initargs must be a tuple"),
        ({"initializer": lambda: None}, "initializer .* must pickle"),
        ({"initializer": t.init_record, "initargs": (threading.Lock(),)}, "must pickle"),
        ({"max_tasks_per_child": 0}, "max_tasks_per_child must be an int in 1"),
        ({"max_tasks_per_child": 2, "max_tasks_per_worker": 3}, "another name for"),
        ({"max_workers": 0}, "max_workers must be greater than 0, got 0"),
        ({"max_workers": -3}, "max_workers must be greater than 0, got -3"),
        ({"max_workers": 2.5}, "max_workers must be an int .* got 2.5 \\(float\\)"),
        ({"max_workers": True}, "max_workers must be an int"),
        ({"max_workers": 3, "min_size": 4, "max_size": 8}, "max_workers=3 is below min_size=4"),
        ({"max_workers": 5, "max_size": 4}, "max_workers=5 is above max_size=4"),
    ],
)
def test_constructor_errors_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Pool(**kwargs)  # type: ignore[arg-type]


def test_an_initializer_closure_is_fine_under_fork(make_pool) -> None:  # type: ignore[no-untyped-def]
    marks: list[int] = []
    pool: Pool = make_pool(
        1, initializer=lambda: marks.append(1), mp_context=multiprocessing.get_context("fork")
    )
    assert pool.submit(ident, 1).result(30) == 1


def test_a_failing_initializer_breaks_the_pool_without_respawning() -> None:
    pool = Pool(
        2, initializer=t.init_fail, initargs=("boom",), monitor=False, telemetry=Telemetry()
    )
    try:
        for i in range(5):
            # The first worker's failure may break the pool before a later submit: that
            # submit then raises the same error at once (documented); either way, each task
            # ends in InitializerFailed naming the initializer and carrying its cause.
            error: InitializerFailed
            try:
                fut = pool.submit(ident, i)
            except InitializerFailed as exc:
                error = exc
            else:
                with pytest.raises(InitializerFailed) as info:
                    fut.result(30)
                error = info.value
            assert re.search(r"pool_test_tasks\.init_fail", str(error))
            assert isinstance(error, BrokenProcessPool)  # what PPE code catches
            assert isinstance(error.__cause__, ValueError)
            assert "boom" in error.cause
        with pytest.raises(InitializerFailed, match=r"ValueError: boom"):
            pool.submit(ident, 9)
        # no spinning: the workers are not replaced, and the IO thread winds down
        assert pool._eng.finished.wait(10)
        spawned = pool._eng.next_wid
        time.sleep(0.3)
        assert pool._eng.next_wid == spawned <= 2
        assert pool.stats().workers == ()
    finally:
        pool.shutdown()


def test_a_dropped_pool_is_collected_and_shut_down() -> None:
    before = {th.ident for th in threading.enumerate()}
    pool = Pool(2, telemetry=Telemetry())  # with its monitor endpoint: its thread must not hold it
    assert pool.wait_ready(20)
    pids = [w.pid for w in pool.stats().workers]
    fut = pool.submit(t.sleep_pid, 0.2)
    ref = weakref.ref(pool)
    del pool
    gc.collect()
    assert ref() is None
    assert fut.result(10) in pids  # work queued before the drop still completes
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="workers to exit")
    wait_for(
        lambda: {th.ident for th in threading.enumerate()} <= before, what="pool threads to end"
    )


_DROPPED = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {here!r})
    import pool_test_tasks as t
    from poolmon.runtime.pool import Pool

    if __name__ == "__main__":
        pids = []
        for _ in range(3):
            pool = Pool(2, monitor=False)
            pool.wait_ready(20)
            pids += [w.pid for w in pool.stats().workers]
            pool.submit(t.sleep_pid, 0.3)
        kept = Pool(1, monitor=False)
        kept.submit(t.sleep_pid, 0.3)
        print(" ".join(map(str, pids)), flush=True)
    """
)


def test_pools_left_at_interpreter_exit_finish_their_work_and_stop(tmp_path: Path) -> None:
    script = tmp_path / "dropped.py"
    script.write_text(_DROPPED.format(here=str(HERE)))
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - start < 60
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 6
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="every worker to exit")


_UNGUARDED = textwrap.dedent(
    """
    from poolmon.runtime.pool import Pool
    from poolmon.bench.tasks import ident

    pool = Pool(1, monitor=False)  # no `if __name__ == "__main__":`
    try:
        print("result", pool.submit(ident, 1).result(60))
    except Exception as exc:
        print("failed:", exc)
    pool.shutdown()
    """
)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_script_without_the_main_guard_fails_clearly_instead_of_hanging(
    tmp_path: Path, method: str
) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED.replace("Pool(1,", f"Pool(1, start_method={method!r},"))
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    # each worker refuses at once, naming the fix ...
    assert "a poolmon.Pool was created while a worker process was importing" in out.stderr
    assert 'if __name__ == "__main__":' in out.stderr
    # ... and the script's own pool fails its task instead of waiting forever
    assert "failed: 5 workers in a row died before becoming ready" in out.stdout, out.stderr


def test_a_replacement_whose_initializer_fails_lets_running_tasks_finish(tmp_path: Path) -> None:
    marker = tmp_path / "broken"
    pool = Pool(2, initializer=t.init_fail_if_exists, initargs=(str(marker),), monitor=False)
    try:
        assert pool.wait_ready(30)
        running = pool.submit(t.sleep_pid, 0.5)
        wait_for(lambda: pool.stats().busy == 1, what="a busy worker")
        idle = next(w for w in pool.stats().workers if w.state == "ready")
        marker.touch()
        pool.recycle_worker(idle.worker_id)  # its replacement's initializer now fails
        wait_for(lambda: pool._eng.broken is not None, what="the pool to break")
        with pytest.raises(InitializerFailed, match="exists"):
            pool.submit(ident, 1)
        assert isinstance(running.result(10), int)  # the task on the healthy worker finished
        assert pool._eng.finished.wait(10)
    finally:
        pool.shutdown()
