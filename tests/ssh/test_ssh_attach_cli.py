"""`poolmon attach ssh://...` as a user runs it: in a terminal (a pty), q quits, nothing left."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sshd_server import Sshd

from poolmon.demo.service import DemoService

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_attach_over_ssh_in_a_terminal(remote_pool: DemoService, ssh_env: Sshd) -> None:
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolmon", "attach", ssh_env.url(remote_pool.name), "--read-only"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    ssh_children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and remote_pool.name.encode() not in seen:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            assert proc.poll() is None, seen[-2000:].decode(errors="replace")
        assert remote_pool.name.encode() in seen, seen[-2000:].decode(errors="replace")
        ssh_children = _children(proc.pid)
        assert ssh_children, "the ssh master should be a child of poolmon while attached"
        time.sleep(1.0)
        os.write(master, b"q")
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    pass
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    for pid in ssh_children:  # the ssh child ended with the app (gone, or a zombie of init)
        assert _state(pid) in (None, "Z"), f"ssh child {pid} outlived poolmon attach"


def _state(pid: int) -> str | None:
    """The process state letter of `pid`, or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
