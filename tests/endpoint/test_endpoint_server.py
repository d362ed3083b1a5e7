"""The endpoint server with real sockets: handshake, stream, filters, files, peers, bad input."""

from __future__ import annotations

import os
import socket
import stat
import struct
import time
from pathlib import Path

import pytest
from endpoint_fakes import FakePool, tasks

from poolmon.core.errors import ConfigError, ConnectionFailed, ProtocolError
from poolmon.core.protocol import (
    Batch,
    Decoder,
    Error,
    Frame,
    Heartbeat,
    Hello,
    HistoryEnd,
    Subscribe,
    Welcome,
    encode,
)
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry


def until(client: MonitorClient, kind: type, timeout_s: float = 5.0) -> list[Frame]:
    """Frames up to and including the first of `kind`."""
    got: list[Frame] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = client.recv(0.1)
        if frame is not None:
            got.append(frame)
            if isinstance(frame, kind):
                return got
    raise AssertionError(f"no {kind.__name__} within {timeout_s} s; got {got}")


def collect_tasks(client: MonitorClient, want: int, timeout_s: float = 5.0) -> list[int]:
    ids: list[int] = []
    deadline = time.monotonic() + timeout_s
    while len(ids) < want and time.monotonic() < deadline:
        frame = client.recv(0.1)
        if isinstance(frame, Batch):
            for _, batch in frame.tasks:
                ids.extend(batch.task_id)
    return ids


def test_handshake_backfill_then_live_stream(server: EndpointServer, telemetry: Telemetry) -> None:
    telemetry.emit("poolmon.worker.state", {"previous_state_ns": 1}, {"worker_id": 1, "to": "busy"})
    telemetry.emit_tasks(tasks(5), {"pool": "testpool"})
    time.sleep(0.05)
    with MonitorClient(server.path) as client:
        assert client.welcome is not None
        assert client.welcome.pool == "testpool"
        assert client.welcome.pid == os.getpid()
        history = until(client, HistoryEnd)
        names = [e.name for f in history if isinstance(f, Batch) for _, e in f.events]
        assert "poolmon.worker.state" in names
        assert sum(len(b) for f in history if isinstance(f, Batch) for _, b in f.tasks) == 5
        telemetry.emit_tasks(tasks(7, start=100), {"pool": "testpool"})
        assert collect_tasks(client, 7) == list(range(100, 107))
        assert client.lost_records == 0


def test_subscription_filters_events_and_tasks(
    server: EndpointServer, telemetry: Telemetry
) -> None:
    client = MonitorClient(server.path, events=("poolmon.worker",), tasks=False, history=False)
    with client:
        until(client, HistoryEnd)
        telemetry.emit("poolmon.workers.bogus", {}, {})
        telemetry.emit_tasks(tasks(3), {})
        telemetry.emit("poolmon.worker.exit", {"lifetime_ns": 1}, {"worker_id": 0})
        got = until(client, Batch)
        (batch,) = [f for f in got if isinstance(f, Batch)]
        assert [e.name for _, e in batch.events] == ["poolmon.worker.exit"]
        assert batch.tasks == ()


def test_socket_file_modes_and_removal(server: EndpointServer) -> None:
    path = Path(server.path)
    assert stat.S_ISSOCK(path.lstat().st_mode)
    assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.lstat().st_mode) == 0o700
    server.close()
    assert not path.exists()


def test_stale_socket_is_replaced_and_live_one_refused(short_dir: Path) -> None:
    path = short_dir / "s" / "p.sock"
    path.parent.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # the file stays: a pool that died
    first = EndpointServer(FakePool("p"), Telemetry(), path=path).start()
    try:
        with pytest.raises(ConfigError, match="live pool"):
            EndpointServer(FakePool("p"), Telemetry(), path=path).start()
        with MonitorClient(path) as client:
            assert client.welcome is not None
    finally:
        first.close()
    assert not path.exists()


def test_regular_file_at_socket_path_is_never_deleted(short_dir: Path) -> None:
    path = short_dir / "f.sock"
    path.write_text("precious")
    with pytest.raises(ConfigError, match="not a socket"):
        EndpointServer(FakePool("f"), Telemetry(), path=path).start()
    assert path.read_text() == "precious"


def test_peer_not_in_allow_list_is_refused(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(allow_uids={os.getuid() + 12345})
    with pytest.raises(ConnectionFailed, match="forbidden"):
        MonitorClient(server.path).connect()


def test_other_protocol_version_gets_a_version_error(server: EndpointServer) -> None:
    frames = raw_exchange(server.path, encode(Hello(version=99)))
    assert isinstance(frames[0], Error)
    assert frames[0].code == "version"


def raw_exchange(path: Path | str, payload: bytes) -> list[Frame]:
    """Send raw bytes, read until the server closes; return the frames it sent."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(5)
    sock.connect(str(path))
    sock.sendall(payload)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return Decoder().feed(data)


BAD_INPUTS = {
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "oversized": struct.pack(">I", 2**31) + b"x",
    "unknown_type": encode(Hello())[:0] + struct.pack(">I", 3) + b"\x92\x63\x80",
    "before_hello": encode(Subscribe()),
    "server_frame_from_client": encode(Hello()) + encode(Welcome()),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_closes_only_that_connection(
    name: str, server: EndpointServer, telemetry: Telemetry
) -> None:
    with MonitorClient(server.path, history=False) as good:
        until(good, HistoryEnd)
        frames = raw_exchange(server.path, BAD_INPUTS[name])
        errors = [f for f in frames if isinstance(f, Error)]
        assert len(errors) == 1, frames
        assert errors[0].message
        telemetry.emit_tasks(tasks(4, start=50), {})
        assert collect_tasks(good, 4) == [50, 51, 52, 53]
    assert server.monitors == 0 or _eventually(lambda: server.monitors == 0)


def test_truncated_frame_then_half_close_gets_error_then_close(server: EndpointServer) -> None:
    """The client only half-closed, so it can still read why (docs/PROTOCOL.md section 7)."""
    frames = raw_exchange_partial(server.path, encode(Hello())[:-3])
    assert len(frames) == 1, frames
    assert isinstance(frames[0], Error)
    assert frames[0].code == "protocol"
    assert "truncated" in frames[0].message
    assert _eventually(lambda: server.monitors == 0)


def raw_exchange_partial(path: Path | str, payload: bytes) -> list[Frame]:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(path))
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(5)
    data = sock.recv(65536)
    sock.close()
    return Decoder().feed(data)


def _eventually(cond, timeout_s: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_several_monitors_receive_the_same_records(
    server: EndpointServer, telemetry: Telemetry
) -> None:
    clients = [MonitorClient(server.path, history=False) for _ in range(3)]
    try:
        for c in clients:
            c.connect()
            until(c, HistoryEnd)
        telemetry.emit_tasks(tasks(10, start=7), {})
        for c in clients:
            assert collect_tasks(c, 10) == list(range(7, 17))
    finally:
        for c in clients:
            c.close()


def test_heartbeats_and_shutdown_close(server: EndpointServer) -> None:
    client = MonitorClient(server.path, history=False)
    client.connect()
    until(client, Heartbeat)
    server.close()
    with pytest.raises(ConnectionFailed, match="shutdown"):
        until(client, Welcome)


def test_no_pool_at_path_is_a_clear_error(short_dir: Path) -> None:
    with pytest.raises(ConnectionFailed, match="no pool socket"):
        MonitorClient(short_dir / "none.sock").connect()


def test_not_a_poolmon_peer(short_dir: Path) -> None:
    path = short_dir / "echo.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    import threading

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(struct.pack(">I", 3) + b"\x92\x02\x80")  # WELCOME without magic
        time.sleep(0.5)
        conn.close()

    t = threading.Thread(target=answer)
    t.start()
    with pytest.raises(ConnectionFailed, match="magic"):
        MonitorClient(path, timeout_s=2).connect()
    t.join()
    listener.close()


def test_version_error_raises_protocol_error(server: EndpointServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import poolmon.runtime.client as client_mod

    monkeypatch.setattr(client_mod, "Hello", lambda **kw: Hello(**{**kw, "version": 7}))
    with pytest.raises(ProtocolError, match="version 7"):
        MonitorClient(server.path).connect()
