"""A socket that accepts but does not answer is said as such, with the process behind it.

A stopped pool (SIGSTOP, ctrl-z) still accepts connections (the kernel does), so before this a
client only said `no WELCOME within 3.0 s`; now it names the process at the other end and its
state. (Another program's socket: tests/endpoint/test_endpoint_cli.py.)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from poolmon.cli import main
from poolmon.core.errors import ConnectionFailed
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.peer import process_name, process_state, silent_pool
from tests.endpoint.test_cli_targets import one_line_error, runtime_dir

__all__ = ["runtime_dir"]  # the fixture, used by name

LISTENER = (
    "import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
    "s.listen(); print('up', flush=True); time.sleep(120)"
)


@pytest.fixture
def stopped_pool(runtime_dir: Path) -> Iterator[tuple[Path, int]]:
    """A process listening on `hung.sock` in the socket folder, then SIGSTOPped."""
    path = runtime_dir / "hung.sock"
    child = subprocess.Popen(
        [sys.executable, "-c", LISTENER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "up"
        os.kill(child.pid, signal.SIGSTOP)
        yield path, child.pid
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.kill()
        child.wait(10)


def test_a_stopped_pool_is_named_with_its_pid_and_how_to_resume_it(
    stopped_pool: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, pid = stopped_pool
    err = one_line_error(capsys, ["status", "hung"])
    assert f"{path}: the pool's process {pid} is stopped (state T)" in err
    assert f"`kill -CONT {pid}` resumes it" in err
    assert main(["ls", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["pools"]
    assert (row["state"], row["pid"]) == ("unreachable", pid)
    assert "is stopped" in row["detail"]


def test_a_running_process_that_never_answers_says_where_to_look(tmp_path: Path) -> None:
    path = tmp_path / "mute.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    try:
        client = MonitorClient(path, timeout_s=0.3)
        with pytest.raises(ConnectionFailed) as caught:
            client.connect()
        assert client.peer_pid == os.getpid()  # the listener is this test process
        assert f"the pool's process {os.getpid()} is " in str(caught.value)
        assert "sent no WELCOME within 0.3 s" in str(caught.value)
        assert f"py-spy dump --pid {os.getpid()}" in str(caught.value)
    finally:
        listener.close()


def test_process_states_in_words(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "41").mkdir(parents=True)
    (proc / "41" / "stat").write_text("41 (python3 (odd) name) Z 1 41 41 0 -1\n")
    assert process_state(41, proc) == "Z"
    assert process_state(42, proc) is None
    (proc / "41" / "comm").write_text("ssh\n")
    assert process_name(41, proc) == "ssh"
    where = Path("/run/x.sock")
    assert "has exited (a zombie" in silent_pool(where, 41, 3.0, "Z")
    debugged = silent_pool(where, 41, 3.0, "t")
    assert "is stopped by a debugger (state t)" in debugged
    assert "kill -CONT" not in debugged
    assert "it is hung or stopped" in silent_pool(where, None, 3.0, None)
    assert "is in an uninterruptible wait" in silent_pool(where, 41, 3.0, "D")
