"""Control commands over a real socket: safe ranges, read-only refusal, events, the caller."""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Mapping
from typing import Any

import pytest
from endpoint_fakes import FakePool

from poolmon.core.catalog import CONTROL_COMMAND
from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.endpoint.control import Caller, CommandHandler, Limits, user_name


def events_named(client: MonitorClient, name: str, want: int = 1, timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
    found = []
    deadline = time.monotonic() + timeout_s
    while len(found) < want and time.monotonic() < deadline:
        frame = client.recv(0.1)
        if isinstance(frame, Batch):
            found += [e for _, e in frame.events if e.name == name]
    return found


def test_commands_change_the_pool_and_are_events(server: EndpointServer, pool: FakePool) -> None:
    with MonitorClient(server.path, history=False) as watcher, MonitorClient(server.path) as ctl:
        assert isinstance(watcher.recv(2), HistoryEnd)
        assert ctl.command("resize", {"size": 6}).result == {"size": 6}
        assert ctl.command("set_task_timeout", {"seconds": 2.5}).ok
        assert ctl.command("set_task_timeout", {"seconds": None}).ok
        assert ctl.command("set_health_check_interval", {"seconds": 0.5}).ok
        assert ctl.command("recycle_worker", {"worker_id": 1}).ok
        assert (pool.size, pool.task_timeout, pool.health_interval) == (6, None, 0.5)
        assert pool.recycled == [1]
        seen = events_named(watcher, CONTROL_COMMAND, 5)
        assert [e.metadata["command"] for e in seen] == [
            "resize",
            "set_task_timeout",
            "set_task_timeout",
            "set_health_check_interval",
            "recycle_worker",
        ]
        assert all(e.metadata["result"] == "ok" for e in seen)
        assert seen[0].metadata["args"] == {"size": 6}


@pytest.mark.parametrize(
    ("name", "args", "reason"),
    [
        ("resize", {"size": 0}, "safe range"),
        ("resize", {"size": 10_000}, "safe range"),
        ("resize", {"size": "4"}, "integer"),
        ("resize", {"size": True}, "integer"),
        ("set_task_timeout", {"seconds": 0}, "safe range"),
        ("set_task_timeout", {"seconds": float("nan")}, "number"),
        ("set_health_check_interval", {"seconds": 0.001}, "safe range"),
        ("recycle_worker", {"worker_id": -1}, "safe range"),
        ("recycle_worker", {"worker_id": 99}, "KeyError"),
        ("explode", {}, "unknown command"),
    ],
)
def test_out_of_range_and_bad_commands_are_refused(
    server: EndpointServer, pool: FakePool, name: str, args: dict, reason: str
) -> None:
    with MonitorClient(server.path, history=False) as client:
        reply = client.command(name, args)
        assert not reply.ok
        assert reason in reply.reason
        assert pool.size == 2


def test_read_only_connection_refuses_changes_but_answers_stats(
    server: EndpointServer, pool: FakePool
) -> None:
    with MonitorClient(server.path, read_only=True) as client:
        assert client.welcome is not None
        assert client.welcome.read_only
        reply = client.command("resize", {"size": 3})
        assert not reply.ok
        assert "read-only" in reply.reason
        assert pool.size == 2
        stats = client.command("stats")
        assert stats.ok
        assert stats.result["pool"]["size"] == 2
        refused = events_named(client, CONTROL_COMMAND)
        assert refused[0].metadata["result"] == "refused"


def test_registered_commands_learn_their_caller_from_the_socket(server: EndpointServer) -> None:
    seen: list[Caller] = []

    def whoami(args: Mapping[str, Any], caller: Caller) -> Mapping[str, Any]:
        seen.append(caller)
        return {"user": caller.user, "claimed": args.get("by")}

    server.commands.register("whoami", whoami, read=False, caller=True)
    server.commands.register("peek", lambda args: {"n": len(seen)}, read=True)
    with MonitorClient(server.path, history=False) as client:
        reply = client.command("whoami", {"by": "somebody-else"})
        assert reply.ok
        assert reply.result == {
            "user": pwd.getpwuid(os.getuid()).pw_name,
            "claimed": "somebody-else",
        }
        assert client.command("peek").result == {"n": 1}
        (event,) = events_named(client, CONTROL_COMMAND)
        assert (event.metadata["command"], event.metadata["result"]) == ("whoami", "ok")
    assert seen[0].uid == os.getuid()
    assert seen[0].pid == os.getpid()  # the client runs in this process
    with MonitorClient(server.path, read_only=True, history=False) as ro:
        refused = ro.command("whoami")
        assert not refused.ok
        assert "read-only" in refused.reason
        assert ro.command("peek").ok
    assert len(seen) == 1


def test_user_name_falls_back_to_the_uid() -> None:
    assert user_name(os.getuid()) == pwd.getpwuid(os.getuid()).pw_name
    assert user_name(2**31 - 7) == f"uid {2**31 - 7}"


def test_command_from_another_thread_while_one_iterates(server: EndpointServer) -> None:
    import threading

    client = MonitorClient(server.path)
    client.connect()
    stop = threading.Event()
    seen: list[object] = []

    def reader() -> None:
        while not stop.is_set():
            frame = client.recv(0.05)
            if frame is not None:
                seen.append(frame)

    t = threading.Thread(target=reader)
    t.start()
    try:
        replies = [client.command("ping") for _ in range(20)]
        assert all(r.ok for r in replies)
    finally:
        stop.set()
        t.join()
        client.close()
    assert any(isinstance(f, HistoryEnd) for f in seen)


def test_handler_never_raises_when_the_pool_stats_breaks(pool: FakePool) -> None:
    emitted = []

    def broken() -> dict:
        raise RuntimeError("stats broke")

    pool.stats = broken  # type: ignore[method-assign]
    handler = CommandHandler(pool, lambda *a: emitted.append(a), dict, Limits(max_size=8))
    out = handler.run("stats", {}, read_only=True, peer_pid=1)
    assert not out.ok
    assert "stats broke" in out.reason
    assert handler.run("resize", {"size": 9}, read_only=False, peer_pid=1).ok is False
    assert emitted[-1][2]["result"] == "refused"
