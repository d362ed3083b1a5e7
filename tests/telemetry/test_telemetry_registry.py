from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from poolmon.core.catalog import ERROR, TASK_START, TASK_STOP
from poolmon.core.events import TASK_CANCELLED, TASK_ERROR, TASK_OK, TaskBatch
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events

Call = tuple[str, dict[str, Any], dict[str, Any]]


def recorder() -> tuple[list[Call], Any]:
    calls: list[Call] = []

    def handler(name: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> None:
        calls.append((name, dict(m), dict(md)))

    return calls, handler


def batch(*rows: tuple[int, int, str, int, int, int, int, str]) -> TaskBatch:
    return TaskBatch.from_rows(list(rows))


def test_prefix_matches_whole_segments() -> None:
    tel = Telemetry()
    calls, handler = recorder()
    tel.attach("h", "poolmon.worker", handler)
    tel.emit("poolmon.worker.exit", {"lifetime_ns": 1}, {"pool": "p"})
    tel.emit("poolmon.worker", {}, {})
    tel.emit("poolmon.workers.exit", {}, {})
    tel.emit("poolmon.pool.init", {}, {})
    assert [c[0] for c in calls] == ["poolmon.worker.exit", "poolmon.worker"]
    assert calls[0][1] == {"lifetime_ns": 1}
    assert calls[0][2] == {"pool": "p"}


def test_several_prefixes_and_catch_all() -> None:
    tel = Telemetry()
    some, h1 = recorder()
    every, h2 = recorder()
    tel.attach("some", ["a.b", "c"], h1)
    tel.attach("all", "", h2)
    for name in ("a.b.c", "a.bc", "c", "c.d", "x"):
        tel.emit(name)
    assert [c[0] for c in some] == ["a.b.c", "c", "c.d"]
    assert [c[0] for c in every] == ["a.b.c", "a.bc", "c", "c.d", "x"]


def test_missing_measurements_and_metadata_are_empty_and_read_only() -> None:
    tel = Telemetry()
    seen: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    tel.attach("h", "x", lambda n, m, md: seen.append((m, md)))
    tel.emit("x")
    m, md = seen[0]
    assert dict(m) == {}
    assert dict(md) == {}
    with pytest.raises(TypeError):
        m["a"] = 1  # type: ignore[index]


def test_duplicate_id_is_refused_and_bad_input_explained() -> None:
    tel = Telemetry()
    tel.attach("h", "x", lambda *a: None)
    with pytest.raises(ValueError, match="already attached"):
        tel.attach("h", "y", lambda *a: None)
    with pytest.raises(ValueError, match="already attached"):
        tel.attach_batch("h", lambda *a: None)
    with pytest.raises(ValueError, match="non-empty"):
        tel.attach("", "x", lambda *a: None)
    with pytest.raises(ValueError, match="malformed"):
        tel.attach("h2", "poolmon.", lambda *a: None)
    with pytest.raises(ValueError, match="at least one"):
        tel.attach("h3", [], lambda *a: None)
    with pytest.raises(TypeError, match="not callable"):
        tel.attach("h4", "x", 42)  # type: ignore[arg-type]
    assert tel.handler_ids() == ("h",)


def test_listening_follows_attach_and_detach() -> None:
    tel = Telemetry()
    assert not tel.listening("poolmon.worker.exit")
    tel.attach("h", "poolmon.worker", lambda *a: None)
    assert tel.listening("poolmon.worker.exit")
    assert not tel.listening("poolmon.pool.init")
    assert tel.detach("h") is True
    assert tel.detach("h") is False
    assert not tel.listening("poolmon.worker.exit")


def test_raising_handler_is_detached_and_reported_and_others_still_run() -> None:
    tel = Telemetry()
    calls, good = recorder()
    errors, on_error = recorder()

    def bad(name: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> None:
        raise KeyError("nope")

    tel.attach("bad", "x", bad)
    tel.attach("good", "x", good)
    tel.attach("errors", ERROR, on_error)
    tel.emit("x", {"n": 1})  # must not raise
    tel.emit("x", {"n": 2})
    assert [c[1]["n"] for c in calls] == [1, 2]
    assert "bad" not in tel.handler_ids()
    assert tel.handler_failures == 1
    assert len(errors) == 1
    _, measurements, md = errors[0]
    assert measurements == {"count": 1}
    assert md["category"] == "telemetry"
    assert md["error_type"] == "KeyError"
    assert "nope" in md["message"]
    assert "'bad'" in md["message"]
    assert "Traceback" in md["traceback"]
    assert "raise KeyError" in md["traceback"]
    assert md["handler_id"] == "bad"
    assert md["event"] == "x"


def test_error_handler_that_raises_on_its_own_report_does_not_loop() -> None:
    tel = Telemetry()

    def bad(name: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> None:
        raise RuntimeError(name)

    tel.attach("a", "", bad)
    tel.attach("b", "", bad)
    tel.emit("x")
    assert tel.handler_ids() == ()
    assert tel.handler_failures == 2


def test_batch_handler_gets_whole_batches_and_isolation_applies() -> None:
    tel = Telemetry()
    assert not tel.wants_tasks
    got: list[tuple[int, Mapping[str, Any]]] = []
    tel.attach_batch("b", lambda b, md: got.append((len(b), md)))
    assert tel.wants_tasks
    tel.emit_tasks(batch((1, 0, "f", 10, 5, 2, TASK_OK, "")), {"pool": "p"})
    tel.emit_tasks(TaskBatch(), {"pool": "p"})  # empty: not delivered
    assert got == [(1, {"pool": "p"})]

    def bad(b: TaskBatch, md: Mapping[str, Any]) -> None:
        raise ValueError("x")

    tel.attach_batch("bad", bad)
    errors, on_error = recorder()
    tel.attach("e", ERROR, on_error)
    tel.emit_tasks(batch((2, 0, "f", 10, 5, 2, TASK_OK, "")), {"pool": "p"})
    assert "bad" not in tel.handler_ids()
    assert errors[0][2]["handler_id"] == "bad"
    assert tel.detach("b")
    assert not tel.wants_tasks


def test_per_task_handlers_get_rows_expanded_catch_all_does_not() -> None:
    tel = Telemetry()
    calls, handler = recorder()
    everything, catch_all = recorder()
    tel.attach("tasks", "poolmon.task", handler)
    tel.attach("all", "", catch_all)
    assert tel.wants_tasks
    tel.emit_tasks(
        batch(
            (1, 0, "f", 100, 50, 7, TASK_OK, ""),
            (2, 1, "g", 200, 60, 8, TASK_ERROR, "ValueError"),
            (3, -1, "g", 300, 0, 9, TASK_CANCELLED, ""),
        ),
        {"pool": "p"},
    )
    assert everything == []
    assert [c[0] for c in calls] == [TASK_START, TASK_STOP, TASK_START, TASK_STOP, TASK_STOP]
    assert calls[0][1] == {"wait_ns": 7, "start_ns": 100}
    assert calls[0][2] == {"pool": "p", "worker_id": 0, "task_id": 1, "op": "f"}
    assert calls[3][1] == {"duration_ns": 60, "wait_ns": 8, "start_ns": 200}
    assert calls[3][2]["status"] == "error"
    assert calls[3][2]["error_type"] == "ValueError"
    assert calls[4][2]["status"] == "cancelled"
    assert calls[4][2]["error_type"] is None


def test_emit_from_worker_tags_worker_pid_and_time() -> None:
    tel = Telemetry()
    calls, handler = recorder()
    tel.attach("h", "myapp", handler)
    tel.emit_from_worker(
        3,
        4242,
        [
            ("myapp.cache.hit", 111, {"count": 1}, {"key": "k", "pool": "spoofed"}),
            ("other.thing", 112, {}, {}),
        ],
        {"pool": "p"},
    )
    assert calls == [
        (
            "myapp.cache.hit",
            {"count": 1},
            {"key": "k", "pool": "p", "worker_id": 3, "pid": 4242, "ts_ns": 111},
        )
    ]


def test_concurrent_emit_and_attach_never_loses_the_steady_handler() -> None:
    tel = Telemetry()
    counted = [0]

    def steady(name: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> None:
        counted[0] += 1

    tel.attach("steady", "x", steady)
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            tel.attach(f"tmp{i}", "x", lambda *a: None)
            tel.detach(f"tmp{i}")
            i += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(20_000):
            tel.emit("x")
    finally:
        stop.set()
        thread.join()
    assert counted[0] == 20_000
    assert tel.handler_ids() == ("steady",)


def test_capture_events_collects_and_detaches() -> None:
    tel = Telemetry()
    with capture_events("myapp", telemetry=tel) as captured:
        tel.emit("myapp.a", {"v": 1}, {"k": "x"})
        tel.emit("elsewhere.b")
        tel.emit_tasks(batch((1, 0, "f", 10, 5, 2, TASK_OK, "")), {"pool": "p"})
        assert captured.wait_for("myapp.a")[0].measurements == {"v": 1}
    assert captured.names() == ["myapp.a"]
    assert captured.tasks[0].status == "ok"
    assert captured.tasks[0].pool == "p"
    assert tel.handler_ids() == ()
    with pytest.raises(TimeoutError, match=r"myapp\.a"):
        captured.wait_for("never", timeout=0.01)


def test_malformed_worker_events_are_reported_not_raised() -> None:
    tel = Telemetry()
    calls, handler = recorder()
    errors, on_error = recorder()
    tel.attach("h", "myapp", handler)
    tel.attach("e", ERROR, on_error)
    bad: list[Any] = [
        ("myapp.a", 1, {}, {"k": 1}),
        ("myapp.b", 2, {}),  # too short
        (["unhashable"], 3, {}, {}),
        (42, 4, {}, {}),  # a name that is not a string
        ("myapp.c", 5, {}, "not a mapping"),
        ("myapp.d", 6, {"n": 1}, {}),
    ]
    tel.emit_from_worker(1, 2, bad, {"pool": "p"})
    assert [c[0] for c in calls] == ["myapp.a", "myapp.d"]
    assert len(errors) == 4
    for _, _, md in errors:
        assert md["error_type"] == "MalformedWorkerEvent"
        assert md["pool"] == "p"
        assert md["worker_id"] == 1
    assert tel.handler_ids() == ("h", "e")
