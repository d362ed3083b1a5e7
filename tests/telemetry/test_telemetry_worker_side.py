from __future__ import annotations

import multiprocessing as mp
import os
from typing import Any

import pytest

import poolmon.telemetry as telemetry
from poolmon.core.catalog import ERROR
from poolmon.runtime.telemetry import Telemetry
from poolmon.runtime.telemetry.worker_side import (
    drain_worker_buffer,
    install_worker_buffer,
    uninstall_worker_buffer,
)
from poolmon.testing import capture_events


@pytest.fixture
def private() -> Any:
    tel = Telemetry()
    yield tel
    uninstall_worker_buffer()


def test_emits_land_in_the_buffer_and_drain_empties_it(private: Telemetry) -> None:
    private.attach("inherited", "", lambda *a: pytest.fail("parent handler ran in worker"))
    install_worker_buffer(2, 999, telemetry=private)
    assert drain_worker_buffer() is None
    private.emit("myapp.cache.hit", {"count": 1}, {"key": "a"})
    private.emit("myapp.cache.miss")
    drained = drain_worker_buffer()
    assert drained is not None
    assert [(n, m, md) for n, _, m, md in drained] == [
        ("myapp.cache.hit", {"count": 1}, {"key": "a"}),
        ("myapp.cache.miss", {}, {}),
    ]
    assert all(isinstance(ts, int) and ts > 0 for _, ts, _, _ in drained)
    assert drain_worker_buffer() is None


def test_full_buffer_drops_counts_and_reports(private: Telemetry) -> None:
    install_worker_buffer(5, 1, max_events=3, telemetry=private)
    for i in range(10):
        private.emit("myapp.x", {"i": i})
    drained = drain_worker_buffer()
    assert drained is not None
    assert [m["i"] for n, _, m, _ in drained[:3]] == [0, 1, 2]
    name, _, measurements, md = drained[3]
    assert name == ERROR
    assert measurements == {"count": 7}
    assert md["category"] == "telemetry"
    assert md["worker_id"] == 5
    assert "dropped 7" in md["message"]
    assert drain_worker_buffer() is None


def test_unshippable_values_are_made_plain(private: Telemetry) -> None:
    install_worker_buffer(0, 1, telemetry=private)
    private.emit("myapp.x", {"ok": 1.5, "bad": "text"}, {"obj": object(), "tags": ("a", 1)})
    drained = drain_worker_buffer()
    assert drained is not None
    _, _, measurements, md = drained[0]
    assert measurements == {"ok": 1.5}
    assert md["invalid_measurements"] == {"bad": "'text'"}
    assert md["tags"] == ["a", 1]
    assert md["obj"].startswith("<object object")


def test_bad_size_is_refused(private: Telemetry) -> None:
    with pytest.raises(ValueError, match="max_events"):
        install_worker_buffer(0, 1, max_events=0, telemetry=private)


def _child(conn: Any) -> None:
    install_worker_buffer(7, os.getpid())
    telemetry.emit("myapp.cache.hit", {"count": 1}, {"key": "k"})
    with telemetry.span("myapp.load", {"path": "p"}):
        pass
    conn.send(drain_worker_buffer())
    conn.close()


def test_real_forked_worker_round_trip() -> None:
    ctx = mp.get_context("fork")
    with capture_events("myapp") as captured:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(child,))
        proc.start()
        try:
            events = parent.recv()
        finally:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        assert proc.exitcode == 0
        # nothing reached the parent's capture directly: the child's inherited handler was cut
        assert captured.events == []
        telemetry.DEFAULT_TELEMETRY.emit_from_worker(7, proc.pid or 0, events, {"pool": "p"})
    names = captured.names()
    assert names == ["myapp.cache.hit", "myapp.load.start", "myapp.load.stop"]
    hit = captured.events[0]
    assert hit.metadata == {
        "key": "k",
        "pool": "p",
        "worker_id": 7,
        "pid": proc.pid,
        "ts_ns": hit.ts_ns,
    }
    assert captured.events[2].measurements["duration_ns"] > 0


def test_fork_while_the_registry_lock_is_held_does_not_deadlock_the_child() -> None:
    import signal
    import time

    tel = Telemetry()
    tel._lock.acquire()  # as if another thread were attaching at the moment of the fork
    try:
        pid = os.fork()
        if pid == 0:  # child: must be able to install its buffer
            try:
                install_worker_buffer(1, os.getpid(), telemetry=tel)
                tel.emit("myapp.x")
                os._exit(0 if drain_worker_buffer() else 2)
            finally:
                os._exit(3)
    finally:
        tel._lock.release()
    deadline = time.monotonic() + 10
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child deadlocked on the inherited registry lock")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0


class _BadMapping(dict[str, Any]):
    def items(self) -> Any:
        raise RuntimeError("items exploded")


def test_a_metadata_that_cannot_be_read_is_counted_and_the_buffer_stays(private: Telemetry) -> None:
    install_worker_buffer(3, 1, telemetry=private)
    private.emit("myapp.bad", {"n": 1}, _BadMapping(a=1))
    private.emit("myapp.good", {"n": 2, "flag": True}, {"invalid_measurements": "user's own"})
    drained = drain_worker_buffer()
    assert drained is not None
    assert [e[0] for e in drained] == ["myapp.good", ERROR]
    assert drained[0][2] == {"n": 2}
    assert drained[0][3]["invalid_measurements"] == {"flag": "True"}
    assert "items exploded" in drained[1][3]["message"]
    assert private.handler_ids() == ("poolmon.worker_buffer",)
