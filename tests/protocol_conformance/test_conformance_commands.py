"""Conformance, section 6 of docs/PROTOCOL.md: COMMAND and REPLY, refusals, the command events.

The client half is `wireclient` (raw socket + msgpack, no poolmon); the server is a real pool
(and, for a command failing inside the pool, a real endpoint around a pool stand-in).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import wireclient as wc
from conformance_servers import broken_endpoint, real_pool

from poolmon import Pool

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pool_path() -> Iterator[tuple[Pool, str]]:
    with real_pool("conf_cmd") as found:
        yield found


def watcher(path: str) -> wc.Wire:
    """A connection subscribed to the command events only, past its (empty) history."""
    wire = wc.Wire(path)
    wire.handshake()
    wire.send(
        wc.SUBSCRIBE, {"events": ["poolmon.control.command"], "tasks": False, "history": False}
    )
    wire.expect(wc.HISTORY_END)
    return wire


def next_command_event(wire: wc.Wire) -> dict[str, Any]:
    """The metadata of the next `poolmon.control.command` event."""
    while True:
        fields = wire.expect(wc.BATCH, 10, skip=(wc.HEARTBEAT,))
        for _, name, _, _, metadata in fields.get("events", []):
            assert name == "poolmon.control.command"
            return dict(metadata)


def test_ping_and_stats(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    wire = wc.Wire(path)
    wire.handshake()
    assert wire.command(1, "ping") == {"id": 1, "ok": True, "result": {"pong": True}, "reason": ""}
    reply = wire.command(2, "stats")
    assert reply["ok"] is True
    assert reply["reason"] == ""
    stats = reply["result"]
    assert isinstance(stats["monitors"], int)
    assert stats["monitors"] >= 1
    for key in ("next_seq", "inbox_dropped"):
        assert isinstance(stats[key], int), key
    for key in ("window_s", "tasks_done", "tasks_failed", "throughput_per_s", "error_rate"):
        assert isinstance(stats[key], float), key
    pool = stats["pool"]
    assert pool["name"] == "conf_cmd"
    assert pool["size"] == 2
    assert (pool["min_size"], pool["max_size"]) == (1, 4)
    for key in ("pid", "queue_depth", "in_flight", "busy", "idle", "tasks_submitted", "tasks_done"):
        assert isinstance(pool[key], int), key
    assert isinstance(pool["uptime_s"], float)
    assert isinstance(pool["closed"], bool)
    assert len(pool["workers"]) == 2
    worker = pool["workers"][0]
    for key in ("worker_id", "slot", "pid", "in_flight", "tasks_done", "restarts", "rss_bytes"):
        assert isinstance(worker[key], int), key
    assert worker["state"] in ("starting", "ready", "busy", "degraded", "stopping")
    assert set(pool["totals"]) >= {"submitted", "succeeded", "failed", "timed_out", "crashed"}
    assert set(pool["sessions"]) >= {"count", "hits", "misses", "expired"}
    wire.close()


def test_commands_ok_and_refused(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    events = watcher(path)
    wire = wc.Wire(path)
    wire.handshake(client="conformance-cmd")
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("resize", {"size": 3}, True),
        ("resize", {"size": 5}, False),  # above the pool's max_size 4
        ("resize", {"size": "3"}, False),  # wrong type: refused, never coerced
        ("recycle_worker", {"worker_id": 10**6}, False),  # no such worker
        ("set_health_check_interval", {"seconds": 0.01}, True),
        ("set_health_check_interval", {"seconds": 3600}, True),
        ("set_health_check_interval", {"seconds": 0.005}, False),
        ("set_health_check_interval", {"seconds": 3601}, False),
        ("set_task_timeout", {"seconds": None}, True),
        ("set_task_timeout", {"seconds": 0.001}, False),
        ("resize", {"size": 2}, True),
    ]
    for i, (name, args, ok) in enumerate(cases):
        reply = wire.command(100 + i, name, args)
        assert reply["ok"] is ok, (name, args, reply)
        assert isinstance(reply["reason"], str)
        assert bool(reply["reason"]) is not ok
        if ok:
            assert reply["result"] == {next(iter(args)): args[next(iter(args))]}
        else:
            assert reply["result"] == {}
        event = next_command_event(events)
        assert (event["command"], event["args"]) == (name, args)
        assert event["result"] == ("ok" if ok else "refused"), event
        assert event["client"] == "conformance-cmd"
        assert event["reason"] == reply["reason"]
    assert pool.stats().health_check_interval_s == 3600
    wire.close()
    events.close()


def test_unknown_command(pool_path: tuple[Pool, str]) -> None:
    _, path = pool_path
    events = watcher(path)
    wire = wc.Wire(path)
    wire.handshake()
    reply = wire.command(7, "no_such_command", {"x": 1})
    assert reply["ok"] is False
    assert reply["result"] == {}
    assert "unknown command" in reply["reason"]
    assert "ping" in reply["reason"]
    assert wire.command(8, "ping")["ok"] is True  # the connection stays open
    beat = events.expect(wc.HEARTBEAT, 5)  # no command event came before it
    assert beat["dropped_records"] == 0
    wire.close()
    events.close()


def test_read_only_refusal(pool_path: tuple[Pool, str]) -> None:
    pool, path = pool_path
    events = watcher(path)
    wire = wc.Wire(path)
    assert wire.handshake(read_only=True)["read_only"] is True
    assert wire.command(1, "ping")["ok"] is True
    assert wire.command(2, "stats")["ok"] is True
    reply = wire.command(3, "resize", {"size": 3})
    assert reply["ok"] is False
    assert "read-only" in reply["reason"]
    event = next_command_event(events)
    assert event["command"] == "resize"
    assert event["result"] == "refused"
    assert pool.size == 2
    wire.close()
    events.close()


def test_command_error_in_the_pool() -> None:
    with broken_endpoint(broken_hello=False) as path:
        events = watcher(path)
        wire = wc.Wire(path)
        wire.handshake()
        reply = wire.command(1, "resize", {"size": 2})
        assert reply["ok"] is False
        assert "shutting down" in reply["reason"]
        event = next_command_event(events)
        assert event["command"] == "resize"
        assert event["result"] == "error"
        wire.close()
        events.close()
