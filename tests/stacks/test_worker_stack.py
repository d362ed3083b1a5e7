"""A stuck worker's live stack, read from a real pool by both producers, in each stuck case.

Each case asserts the reported innermost frame is the task function at its marked line: a
stack that named the wrong place would fail. py-spy cases skip loudly when py-spy or ptrace
permission is missing (the reply says which).
"""

from __future__ import annotations

import linecache
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stack_test_tasks as t

from poolmon.core.errors import ConfigError
from poolmon.core.stacks import format_stack, task_line
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.errors import WorkerKilled
from poolmon.runtime.pool.stacks import StackUnavailable, pyspy_stack
from poolmon.runtime.telemetry import Telemetry


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    p = Pool(1, monitor=False, telemetry=Telemetry())
    assert p.wait_ready(20), "workers did not start"
    yield p
    p.shutdown(wait=True, cancel_futures=True)


def _running(pool: Pool, op: str) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for w in pool.stats().workers:
            if w.current_op == op:
                return w.worker_id
        time.sleep(0.01)
    raise AssertionError(f"{op} never started")


def _marker_line(tag: str) -> int:
    with open(t.__file__) as fh:
        return next(i for i, line in enumerate(fh, 1) if f"# {tag}" in line)


def _pyspy_or_skip(pool: Pool, wid: int) -> None:
    pid = next(w.pid for w in pool.stats().workers if w.worker_id == wid)
    try:
        pyspy_stack(pid, 10)
    except StackUnavailable as exc:
        pytest.skip(f"py-spy cannot read stacks here: {exc}")


CASES: list[tuple[Callable[..., Any], Any, str]] = [
    (t.sleeper, 30, "STUCK-SLEEP"),
    (t.spinner, 30, "STUCK-LOOP"),
    (t.deadlocker, 30, "STUCK-LOCK"),
]


@pytest.mark.parametrize("method", ["inprocess", "pyspy"])
@pytest.mark.parametrize(("fn", "arg", "tag"), CASES, ids=[c[2] for c in CASES])
def test_stack_names_the_stuck_line(
    pool: Pool, method: str, fn: Callable[..., Any], arg: Any, tag: str
) -> None:
    fut = pool.submit(fn, arg)
    try:
        wid = _running(pool, fn.__name__)
        if method == "pyspy":
            _pyspy_or_skip(pool, wid)
        reply = pool.worker_stack(wid, method=method, timeout_s=5)
        assert reply["producer"] == method
        path, line, func, source = reply["frames"][0]
        assert (path, func) == (t.__file__, fn.__name__)
        # a loop is caught on its test or its body: both lines are the stuck loop
        lines = (
            (_marker_line(tag), _marker_line(tag) + 1)
            if tag == "STUCK-LOOP"
            else (_marker_line(tag),)
        )
        assert line in lines
        assert source == linecache.getline(t.__file__, line).strip()
        assert reply["op"] == fn.__name__
        assert reply["args"] == f"({arg!r},)"
        assert reply["age_s"] is not None
        assert reply["age_s"] >= 0
        assert reply["limits"]
    finally:
        pool.kill_worker(_running(pool, fn.__name__))
        with pytest.raises(WorkerKilled):
            fut.result(20)


def test_c_call_holding_the_gil(pool: Pool) -> None:
    """Only py-spy reads it; the in-worker dumper says why it could not answer."""
    fut = pool.submit(t.c_call, 40)  # ~2**40 steps: never ends by itself
    try:
        wid = _running(pool, "c_call")
        time.sleep(0.2)  # well inside re.match
        with pytest.raises(ConfigError, match="C call holding the GIL"):
            pool.worker_stack(wid, method="inprocess", timeout_s=0.5)
        _pyspy_or_skip(pool, wid)
        reply = pool.worker_stack(wid, method="auto")
        assert reply["producer"] == "pyspy"
        frames = reply["frames"]
        task = next(f for f in frames if f[0] == t.__file__)
        assert task[1:3] == [_marker_line("STUCK-C"), "c_call"]
    finally:
        pool.kill_worker(_running(pool, "c_call"))
        with pytest.raises(WorkerKilled):
            fut.result(20)


def test_arguments_can_be_hidden() -> None:
    with Pool(1, monitor=False, telemetry=Telemetry(), stack_args=False) as p:
        fut = p.submit(t.sleeper, 1.5)
        reply = p.worker_stack(_running(p, "sleeper"), method="inprocess", timeout_s=5)
        assert reply["args"] == "<hidden: Pool(stack_args=False)>"
        assert fut.result(20) == "slept"


def test_bad_requests_are_refused(pool: Pool) -> None:
    with pytest.raises(ConfigError, match="no live worker"):
        pool.worker_stack(10_000)
    with pytest.raises(ConfigError, match="method must be one of"):
        pool.worker_stack(0, method="gdb")


def test_folders_of_dead_pools_are_swept(tmp_path: Path) -> None:
    """A pool killed before atexit leaves its folder; the next pool's start removes it."""
    from poolmon.runtime.pool.stackdump import _sweep

    gone = tmp_path / "poolmon-stacks-999999999-abc"
    alive = tmp_path / f"poolmon-stacks-{os.getpid()}-abc"
    gone.mkdir()
    (gone / "stack-1.json").write_text("{}")
    alive.mkdir()
    _sweep(tmp_path)
    assert not gone.exists()
    assert alive.exists()


def test_config_switch_hides_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    """`[pool] stack_args = false` in poolmon.toml (here its variable) is Pool(stack_args=False)."""
    monkeypatch.setenv("POOLMON_POOL_STACK_ARGS", "false")
    with Pool(1, monitor=False, telemetry=Telemetry()) as p:
        fut = p.submit(t.sleeper, 1.5)
        reply = p.worker_stack(_running(p, "sleeper"), method="inprocess", timeout_s=5)
        assert reply["args"] == "<hidden: Pool(stack_args=False)>"
        assert fut.result(20) == "slept"


@pytest.mark.parametrize(("method", "task_s"), [("inprocess", 0.003), ("pyspy", 0.1)])
def test_a_stack_of_short_tasks_is_never_labelled_with_another_task(
    pool: Pool, method: str, task_s: float
) -> None:
    """Two short tasks alternate; every reply's task is the one its frames are in, or none.

    Before, the header (op, id, args) was read before the stack: with millisecond tasks it
    named `brief_a` above a stack inside `brief_b`. py-spy's read takes longer than a 3-ms
    task, so every one of its replies said the task moved and the labelled branch was never
    checked; its tasks are 100 ms (a read takes 10-30 ms here, more on a loaded machine), and
    each method must label some replies.
    """
    futures = [pool.submit(t.brief_a if i % 2 else t.brief_b, task_s) for i in range(3000)]
    try:
        wid = _running(pool, "brief_a")
        if method == "pyspy":
            _pyspy_or_skip(pool, wid)
        replies = [pool.worker_stack(wid, method=method, timeout_s=5) for _ in range(15)]
    finally:
        for f in futures:
            f.cancel()
    labelled = [r for r in replies if r.get("task_moved") is None and r["task_id"] is not None]
    assert labelled, f"no reply named its task: {[r.get('task_moved') for r in replies]}"
    for reply in replies:
        if reply.get("task_moved") is not None:
            assert reply["task_id"] is None
            assert reply["op"] is None
            assert reply["args"] is None
            continue
        if reply["task_id"] is not None:
            inner = [f[2] for f in reply["frames"]]
            assert reply["op"] in inner, (reply["op"], inner)


def test_the_header_of_a_stack_whose_task_moved_names_both_tasks() -> None:
    reply = {"worker_id": 1, "pid": 9, "producer": "pyspy", "frames": [], "task_moved": [41, 42]}
    lines = format_stack(reply)
    assert lines[2] == (
        "task unknown: the worker went from task 41 to 42 while the stack was read (tasks this "
        "short finish within a read); the frames below belong to one of them, or to the "
        "worker's loop between them"
    )
    assert "went from task none to 7" in task_line({"task_moved": [None, 7]})
    assert task_line({"task_id": None}) == "no task running (the worker is idle)"
