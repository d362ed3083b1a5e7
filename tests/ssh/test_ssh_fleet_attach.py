"""`poolmon attach A ssh://host/B`: a pool here and one over ssh in one pools overview."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from sshd_server import Sshd

from poolmon.demo.service import DemoService

pytestmark = pytest.mark.integration


def test_a_local_and_an_ssh_pool_in_one_overview(remote_pool: DemoService, ssh_env: Sshd) -> None:
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40"}
    url = ssh_env.url(remote_pool.name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolmon", "attach", str(remote_pool.socket_path), url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and b"2 live" not in seen:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            assert proc.poll() is None, seen[-2000:].decode(errors="replace")
        text = seen.decode(errors="replace")
        assert "pools overview (2)" in text, text[-2000:]
        assert "2 live" in text  # both rows live: the local socket and the ssh forward
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
