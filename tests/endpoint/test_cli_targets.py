"""Every verb's answer to a wrong target, a bad option and `--help` (poolmon.runtime.locate).

Real sockets in a private folder and real endpoint servers; each message is checked for what
the user needs from it: what was found, where poolmon looked, and what to do next.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoint_fakes import FakePool

from poolmon.cli import main
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.locate import inspect
from poolmon.runtime.telemetry import Telemetry

ONE_POOL_VERBS = [
    ["attach"],
    ["status"],
    ["advise"],
    ["tune"],
    ["stack", "--all"],
    ["alerts"],
    ["silences"],
]
"""Verbs that talk to one pool named by their first argument."""


@pytest.fixture
def runtime_dir(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    folder = short_dir / "poolmon"
    folder.mkdir(mode=0o700)
    assert socket_dir() == folder
    return folder


@pytest.fixture
def etl_pool(runtime_dir: Path) -> Iterator[EndpointServer]:
    server = EndpointServer(FakePool("etl"), Telemetry()).start()
    yield server
    server.close()


def stale_socket(path: Path) -> Path:
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("verb", ONE_POOL_VERBS)
def test_an_unknown_name_says_where_it_looked_and_what_runs_there(
    runtime_dir: Path,
    etl_pool: EndpointServer,
    capsys: pytest.CaptureFixture[str],
    verb: list[str],
) -> None:
    err = one_line_error(capsys, [*verb, "elt"])
    assert f"poolmon {verb[0]}: no pool named 'elt'" in err
    assert f"looked for elt.sock in the socket folder {runtime_dir}" in err
    assert "running there: etl; did you mean 'etl'?" in err
    assert "`poolmon ls`" in err


def test_watch_names_an_unknown_pool_the_same_way(
    runtime_dir: Path, etl_pool: EndpointServer, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(capsys, ["watch", "--once", "--json", "elt"])
    assert f"no pool named 'elt': looked for elt.sock in the socket folder {runtime_dir}" in err
    assert "did you mean 'etl'?" in err


def test_an_unknown_name_with_no_pool_running(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(capsys, ["attach", "nonexistent"])
    assert str(runtime_dir) in err
    assert "no pool is running there" in err
    assert "poolmon ls" in err
    assert "did you mean" not in err


def test_a_regular_file_is_not_a_socket_not_a_stale_one(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for verb in ("attach", "status"):
        err = one_line_error(capsys, [verb, "/etc/passwd"])
        assert "/etc/passwd is not a socket (it is a regular file)" in err
        assert "stale" not in err
    err = one_line_error(capsys, ["attach", str(runtime_dir)])
    assert "is not a socket (it is a folder)" in err


def test_a_stale_socket_says_stale_and_how_to_prune(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stale_socket(runtime_dir / "ghost.sock")
    for argv in (["attach", "ghost"], ["status", str(path)], ["tune", "ghost"]):
        err = one_line_error(capsys, argv)
        assert f"stale socket: nothing listens at {path}" in err
        assert "`poolmon ls --prune`" in err


def test_a_missing_path_says_nothing_is_there(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_error(capsys, ["attach", "/nonexistent/x.sock"])
    assert "no pool socket at /nonexistent/x.sock (nothing is there)" in err
    assert str(runtime_dir) in err


def test_no_pool_at_all_mentions_the_folder_and_stale_sockets(
    runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale_socket(runtime_dir / "ghost.sock")
    err = one_line_error(capsys, ["status"])
    assert f"no running pool found in the socket folder {runtime_dir}" in err
    assert "1 stale socket(s) there: `poolmon ls --prune`" in err


def _inspect_as_nobody(path: Path) -> str:
    """`inspect(path)` in a child that cannot use the socket (setuid nobody when root)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            os.write(write, inspect(path).verdict.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        return f.read()


def test_another_users_socket_is_a_permission_problem(short_dir: Path) -> None:
    folder = short_dir / "open"
    folder.mkdir()
    folder.chmod(0o755)
    short_dir.chmod(0o755)
    listener = socket.socket(socket.AF_UNIX)
    path = folder / "private.sock"
    listener.bind(str(path))
    listener.listen()
    path.chmod(0o600 if os.getuid() == 0 else 0o000)
    try:
        assert inspect(path).verdict == "live"  # its owner may connect
        assert _inspect_as_nobody(path) == "permission"
    finally:
        listener.close()


def test_the_permission_message_names_the_owner(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poolmon.runtime.locate import denied

    path = short_dir / "x.sock"
    stale_socket(path)
    text = denied(path)
    assert text.startswith(f"permission denied: cannot connect to {path}")
    assert f"owned by uid {os.getuid()}" in text
    assert "run poolmon as that user" in text


@pytest.mark.parametrize(
    "verb",
    ["attach", "status", "ls", "tune", "stack", "advise", "alerts", "watch", "config", "demo"],
)
def test_a_bad_option_shows_the_verbs_own_usage(
    capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([verb, "x", "--bogus"] if verb in {"tune", "stack"} else [verb, "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: poolmon {verb} ")
    assert f"poolmon {verb}: error: unrecognized arguments: --bogus" in err


def test_attach_help_names_the_argument_and_shows_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["attach", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal width
    assert "[NAME|SOCKET ...]" in out
    assert "NAME or SOCKET: pool name, socket path or ssh://" in out
    assert "(default: [app] refresh, else 4)" in out
    assert "(default: [app] window, else 1m)" in out


def test_help_of_other_verbs_shows_real_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stack", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: auto)" in out
    assert "(default: None)" not in out
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 5.0)" in out  # --timeout
    assert "(default: None)" not in out
