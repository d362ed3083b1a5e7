"""`poolmon attach` with a redirected stream: it says so and exits, never a blank terminal.

Each case runs the real command in a subprocess whose other streams are a pseudo-terminal
(its controlling terminal, as in a shell), attached to a real endpoint; and one control case
with all three on the terminal checks that the app does start and draw there.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from endpoint_fakes import FakePool

from poolmon.app.tty_check import terminal_problem
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


@pytest.fixture
def server(short_dir: Path) -> Iterator[EndpointServer]:
    srv = EndpointServer(FakePool("ttypool"), Telemetry(), path=short_dir / "ttypool.sock")
    srv.start()
    yield srv
    srv.close()


def _controlling_tty() -> None:  # runs in the child, after setsid: stdin's pty becomes its tty
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _read_all(fd: int, until: float, stop: bytes | None = None) -> bytes:
    seen = b""
    while time.monotonic() < until and not (stop and stop in seen):
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def spawn(
    socket: Path, *, stdin: Any = None, stdout: Any = None, stderr: Any = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `poolmon attach SOCKET`; streams not given are a pty (its controlling terminal).

    Returns the process and the pty's master end.
    """
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolmon", "attach", str(socket)],
        stdin=slave if stdin is None else stdin,
        stdout=slave if stdout is None else stdout,
        stderr=slave if stderr is None else stderr,
        env=env,
        start_new_session=True,
        preexec_fn=_controlling_tty if stdin is None else None,
    )
    os.close(slave)
    return proc, master


def run_attach(
    socket: Path, *, stdin: Any = None, stdout: Any = None, stderr: Any = None
) -> tuple[int, bytes]:
    """Run `poolmon attach SOCKET` to its end: (exit code, what the terminal showed)."""
    proc, master = spawn(socket, stdin=stdin, stdout=stdout, stderr=stderr)
    try:
        seen = _read_all(master, time.monotonic() + 60, stop=b"without redirecting")
        code = proc.wait(timeout=60)
        seen += _read_all(master, time.monotonic() + 0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, seen


def test_stderr_to_a_file_says_so_in_the_file_and_on_the_terminal(
    server: EndpointServer, tmp_path: Path
) -> None:
    log = tmp_path / "attach.log"
    with open(log, "wb") as f:
        code, on_terminal = run_attach(server.path, stderr=f)
    assert code == 2
    text = log.read_text()
    assert text.count("\n") == 1
    assert text.startswith("poolmon attach: the full-screen monitor needs a terminal")
    assert f"standard error goes to the file {log}" in text
    assert "poolmon status NAME" in text
    assert b"standard error goes to the file" in on_terminal  # the person sees it too
    assert b"\x1b[?1049h" not in on_terminal  # no full-screen mode was entered


def test_stdout_into_a_pipe_says_so(server: EndpointServer) -> None:
    proc_out: IO[bytes]
    read, write = os.pipe()
    with os.fdopen(write, "wb") as proc_out:
        code, on_terminal = run_attach(server.path, stdout=proc_out)
    os.close(read)
    assert code == 2
    text = on_terminal.decode(errors="replace")
    assert "standard output is a pipe, not a terminal" in text
    assert "\x1b[?1049h" not in text


def test_stdin_from_dev_null_says_no_key_would_arrive(server: EndpointServer) -> None:
    with open(os.devnull, "rb") as null:
        code, on_terminal = run_attach(server.path, stdin=null)
    assert code == 2
    assert b"standard input is /dev/null, not a terminal, so no key" in on_terminal


def test_on_a_real_terminal_the_app_draws_and_q_quits(server: EndpointServer) -> None:
    proc, master = spawn(server.path)
    try:
        seen = _read_all(master, time.monotonic() + 60, stop=b"ttypool")
        assert b"ttypool" in seen, seen[-2000:]
        os.write(master, b"q")
        _read_all(master, time.monotonic() + 2)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_terminal_problem_names_the_stream() -> None:
    master, slave = os.openpty()
    read, write = os.pipe()
    try:
        assert terminal_problem((slave, slave, slave)) is None
        assert "standard error goes to a pipe" in (terminal_problem((slave, slave, write)) or "")
        assert "standard input is a pipe" in (terminal_problem((read, slave, slave)) or "")
        assert "standard output is a pipe" in (terminal_problem((slave, write, slave)) or "")
    finally:
        for fd in (master, slave, read, write):
            os.close(fd)
