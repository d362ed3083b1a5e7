from __future__ import annotations

import time

import pytest

from poolmon.core.catalog import (
    ERROR,
    POOL_OPERATION_EXCEPTION,
    POOL_OPERATION_START,
    POOL_OPERATION_STOP,
    RECOVERY,
    RESOURCE_MACHINE,
    WORKER_EXIT,
)
from poolmon.core.catalog_entries import BY_NAME
from poolmon.runtime.telemetry import (
    Telemetry,
    emit_error_event,
    emit_recovery_event,
    emit_resource_event,
    emit_worker_event,
    execute_pool_operation,
    span,
)
from poolmon.testing import capture_events


def complete(name: str, metadata: dict[str, object]) -> bool:
    return set(BY_NAME[name].metadata) <= set(metadata)


def test_span_emits_start_and_stop_with_monotonic_ns() -> None:
    tel = Telemetry()
    with (
        capture_events("myapp", telemetry=tel) as captured,
        span("myapp.load", {"path": "x"}, telemetry=tel) as s,
    ):
        time.sleep(0.02)
        s.measurements["rows"] = 3
    start, stop = captured.events
    assert start.name == "myapp.load.start"
    assert start.metadata == {"path": "x"}
    assert start.measurements["system_time_ns"] > 1_600_000_000 * 10**9
    assert stop.name == "myapp.load.stop"
    assert stop.measurements["rows"] == 3
    assert 20_000_000 <= stop.measurements["duration_ns"] < 2_000_000_000
    assert isinstance(stop.measurements["duration_ns"], int)


def test_span_exception_carries_type_message_traceback_and_reraises() -> None:
    tel = Telemetry()
    with (
        capture_events("myapp", telemetry=tel) as captured,
        pytest.raises(ValueError, match="bad row"),
        span("myapp.load", telemetry=tel),
    ):
        raise ValueError("bad row 7")
    names = captured.names()
    assert names == ["myapp.load.start", "myapp.load.exception"]
    md = captured.events[1].metadata
    assert md["error_type"] == "ValueError"
    assert md["message"] == "bad row 7"
    assert md["kind"] == "error"
    assert 'raise ValueError("bad row 7")' in md["traceback"]
    assert captured.events[1].measurements["duration_ns"] >= 0


def test_span_without_listeners_emits_nothing_and_still_reraises() -> None:
    tel = Telemetry()
    with pytest.raises(KeyError), span("myapp.x", telemetry=tel):
        raise KeyError("k")
    with pytest.raises(ValueError, match="dotted"):
        span("", telemetry=tel)


def test_execute_pool_operation_times_and_returns() -> None:
    tel = Telemetry()
    with capture_events("poolmon.pool.operation", telemetry=tel) as captured:
        assert execute_pool_operation("resize", lambda: 42, pool="p", telemetry=tel) == 42
        with pytest.raises(RuntimeError):
            execute_pool_operation("shutdown", _boom, pool="p", telemetry=tel)
    assert captured.names() == [
        POOL_OPERATION_START,
        POOL_OPERATION_STOP,
        POOL_OPERATION_START,
        POOL_OPERATION_EXCEPTION,
    ]
    for event in captured.events:
        assert complete(event.name, dict(event.metadata)), event
    assert captured.events[1].metadata["operation"] == "resize"
    assert captured.events[3].metadata["error_type"] == "RuntimeError"


def _boom() -> None:
    raise RuntimeError("no")


def test_worker_event_fills_every_catalog_key() -> None:
    tel = Telemetry()
    with capture_events(telemetry=tel) as captured:
        emit_worker_event(
            WORKER_EXIT,
            pool="p",
            worker_id=2,
            pid=99,
            measurements={"lifetime_ns": 5, "tasks_done": 1},
            metadata={"reason": "crash", "exit_code": -9, "signal": 9},
            telemetry=tel,
        )
    (event,) = captured.events
    assert event.metadata == {
        "pool": "p",
        "worker_id": 2,
        "pid": 99,
        "reason": "crash",
        "exit_code": -9,
        "signal": 9,
        "slot": None,  # a catalog key not given is filled with None
    }
    with pytest.raises(ValueError, match="not a worker event"):
        emit_worker_event(ERROR, pool="p", worker_id=1, pid=1, telemetry=tel)


def test_error_event_from_an_exception_has_type_message_traceback() -> None:
    tel = Telemetry()
    try:
        raise OSError("disk gone")
    except OSError as exc:
        error = exc
    with capture_events(ERROR, telemetry=tel) as captured:
        emit_error_event("worker", "critical", pool="p", error=error, worker_id=3, telemetry=tel)
        emit_error_event(
            "pool", "warning", pool="p", error_type="Vanished", message="gone", telemetry=tel
        )
    first, second = captured.events
    assert complete(ERROR, dict(first.metadata))
    assert first.metadata["error_type"] == "OSError"
    assert first.metadata["message"] == "disk gone"
    assert 'raise OSError("disk gone")' in first.metadata["traceback"]
    assert first.metadata["worker_id"] == 3
    assert first.measurements == {"count": 1}
    assert second.metadata["traceback"] is None
    assert second.metadata["error_type"] == "Vanished"
    with pytest.raises(ValueError, match="category"):
        emit_error_event("nonsense", "error", pool="p", telemetry=tel)
    with pytest.raises(ValueError, match="severity"):
        emit_error_event("task", "fatal", pool="p", telemetry=tel)


def test_recovery_and_resource_events() -> None:
    tel = Telemetry()
    with capture_events(telemetry=tel) as captured:
        emit_recovery_event("replace_worker", "ok", 1_500, pool="p", worker_id=1, telemetry=tel)
        emit_resource_event(RESOURCE_MACHINE, {"cpu_percent": 12.5}, pool="p", telemetry=tel)
    recovery, machine = captured.events
    assert recovery.name == RECOVERY
    assert recovery.measurements == {"duration_ns": 1_500}
    assert complete(RECOVERY, dict(recovery.metadata))
    assert machine.metadata == {"pool": "p"}
    with pytest.raises(ValueError, match="action"):
        emit_recovery_event("pray", "ok", 1, pool="p", telemetry=tel)
    with pytest.raises(ValueError, match="duration_ns"):
        emit_recovery_event("retry_task", "ok", -1, pool="p", telemetry=tel)
    with pytest.raises(ValueError, match="not a resource event"):
        emit_resource_event(ERROR, {}, pool="p", telemetry=tel)


def test_helpers_build_nothing_when_nobody_listens() -> None:
    tel = Telemetry()
    seen: list[str] = []
    tel.attach("other", "myapp", lambda n, m, md: seen.append(n))
    emit_worker_event(WORKER_EXIT, pool="p", worker_id=1, pid=1, telemetry=tel)
    emit_error_event("task", "error", pool="p", telemetry=tel)
    assert seen == []
