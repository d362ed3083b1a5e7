"""`poolmon ls` and `poolmon status` against real endpoints, and their one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from endpoint_fakes import FakePool

from poolmon.cli import main
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.telemetry import Telemetry


@pytest.fixture
def runtime_dir(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    assert socket_dir() == short_dir / "poolmon"
    return short_dir / "poolmon"


def test_ls_lists_alive_and_stale_pools(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = EndpointServer(FakePool("alpha"), Telemetry()).start()
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(runtime_dir / "ghost.sock"))
    dead.close()
    try:
        assert main(["ls", "--json"]) == 0
        rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["pools"]}
        assert rows["alpha"]["state"] == "alive"
        assert rows["alpha"]["socket"] == str(runtime_dir / "alpha.sock")
        assert rows["ghost"]["state"] == "stale"
        assert main(["ls"]) == 0
        text = capsys.readouterr().out
        assert "alpha" in text
        assert "stale" in text
    finally:
        server.close()


def test_status_of_the_only_pool(runtime_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = EndpointServer(FakePool("beta"), Telemetry()).start()
    try:
        assert main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["name"] == "beta"
        assert status["pool"]["size"] == 2
        assert "throughput_per_s" in status["window"]
        assert status["other_monitors"] == 0
        assert main(["status", "beta"]) == 0
        text = capsys.readouterr().out
        assert "pool        beta · pid" in text
        assert "queue       3 waiting" in text
        assert "tasks/s" in text
    finally:
        server.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["status"], "no running pool"),
        (["status", "/nonexistent/x.sock"], "no pool socket"),
    ],
)
def test_status_errors_are_one_line_exit_2(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_status_on_a_dead_pool_and_with_two_pools(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = socket.socket(socket.AF_UNIX)
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    dead.bind(str(runtime_dir / "dead.sock"))
    dead.close()
    assert main(["status", str(runtime_dir / "dead.sock")]) == 2
    assert "stale" in capsys.readouterr().err
    servers = [EndpointServer(FakePool(n), Telemetry()).start() for n in ("one", "two")]
    try:
        assert main(["status"]) == 2
        assert "2 pools are running" in capsys.readouterr().err
    finally:
        for s in servers:
            s.close()


def test_status_against_a_non_poolmon_socket(
    short_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    path = short_dir / "other.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(100)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    t = threading.Thread(target=answer)
    t.start()
    assert main(["status", str(path)]) == 2
    t.join()
    listener.close()
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    # it said `frame of 1213486160 bytes exceeds the maximum` ("HTTP" read as a length)
    assert f"{path}: not a poolmon endpoint: what it sent first (b'HTTP/1.1 400 Bad" in err
    assert "is this another program's socket?" in err


def test_ls_lists_live_pools_first_and_prunes_stale_sockets(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = EndpointServer(FakePool("zeta"), Telemetry()).start()
    for name in ("aaa", "bbb"):
        dead = socket.socket(socket.AF_UNIX)
        dead.bind(str(runtime_dir / f"{name}.sock"))
        dead.close()
    try:
        assert main(["ls"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[1].startswith("zeta")  # alive first, although it sorts last by name
        assert "2 stale sockets" in lines[-1]
        assert "--prune" in lines[-1]
        assert main(["ls", "--prune", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert sorted(Path(p).name for p in out["pruned"]) == ["aaa.sock", "bbb.sock"]
        assert [r["name"] for r in out["pools"]] == ["zeta"]
        assert not (runtime_dir / "aaa.sock").exists()
        assert (runtime_dir / "zeta.sock").exists()
    finally:
        server.close()
