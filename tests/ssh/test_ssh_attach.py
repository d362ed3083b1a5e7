"""ssh:// targets against a real sshd on loopback and a real pool reached through the forward."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from sshd_server import Sshd

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.cli import main
from poolmon.core.errors import ConfigError
from poolmon.demo.service import DemoService
from poolmon.runtime import config
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.ssh.session import SshSession
from poolmon.runtime.ssh.url import parse_ssh_url
from poolmon.runtime.targets import open_target

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("plain", [True, False], ids=["sh-listing", "remote-poolmon"])
def test_status_over_ssh(
    remote_pool: DemoService, ssh_env: Sshd, plain: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ssh_env.url(remote_pool.name, plain=plain)
    assert main(["status", url, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["name"] == remote_pool.name
    assert status["pid"] == os.getpid()
    assert status["socket"] == url
    assert status["pool"]["size"] == 1
    assert main(["status", url]) == 0
    assert f"pool        {remote_pool.name} · pid {os.getpid()}" in capsys.readouterr().out


@pytest.mark.parametrize("plain", [True, False], ids=["sh-listing", "remote-poolmon"])
def test_ls_over_ssh(
    remote_pool: DemoService, ssh_env: Sshd, plain: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ls", ssh_env.url(plain=plain), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["socket_dir"] == ssh_env.url(plain=plain)
    mine = [r for r in doc["pools"] if r["name"] == remote_pool.name]
    assert len(mine) == 1
    assert mine[0]["state"] == "alive"
    assert mine[0]["pid"] == os.getpid()
    assert mine[0]["socket"] == str(remote_pool.socket_path)
    assert mine[0]["via"] == ("socket folder" if plain else "poolmon ls")
    assert main(["ls", ssh_env.url(plain=plain)]) == 0
    assert remote_pool.name in capsys.readouterr().out


def test_the_app_over_the_forwarded_socket(remote_pool: DemoService, ssh_env: Sshd) -> None:
    with open_target(ssh_env.url(remote_pool.name)) as target:
        assert target.remote
        assert target.path.parent.name.startswith("poolmon-ssh-")
        assert oct(target.path.parent.stat().st_mode & 0o777) == "0o700"
        monitor = Monitor(target.path, read_only=True)
        app = PoolmonApp(monitor, refresh_hz=4, read_only=True)

        async def scenario() -> str:
            async with app.run_test(size=(160, 50)) as pilot:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    await pilot.pause(0.25)
                    if monitor.status().state == "live" and monitor.snapshot(60).tasks_finished:
                        break
                await pilot.pause(0.5)
                return screen_text(app)

        text = asyncio.run(scenario())
        folder = target.path.parent
    assert "● live" in text
    assert remote_pool.name in text
    assert f"pid {os.getpid()}" in text
    assert not folder.exists()  # the private folder and its sockets are gone with the session


def test_the_ssh_child_ends_with_the_session(ssh_env: Sshd) -> None:
    session = SshSession(parse_ssh_url(ssh_env.url()), config.current()).open()
    master = session._master
    assert master is not None
    assert master.poll() is None
    folder = session.folder
    session.close()
    assert master.poll() is not None
    assert folder is not None
    assert not folder.exists()


def test_unknown_pool_lists_the_pools_there(
    remote_pool: DemoService, ssh_env: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", ssh_env.url("no-such-pool")]) == 2
    err = capsys.readouterr().err
    assert "no pool named 'no-such-pool' on the host; pools there:" in err
    assert f"{remote_pool.name} (alive)" in err


def test_wrong_port_is_unreachable(ssh_env: Sshd, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    assert main(["ls", f"ssh://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    said = f"connect to host 127.0.0.1 port {port}: Connection refused"
    assert f"ssh://127.0.0.1:{port}: host unreachable [ssh: {said}]\n" in err  # "ssh:" once


def test_bad_key_is_permission_denied(
    ssh_env: Sshd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POOLMON_SSH_CONFIG_FILE", str(ssh_env.wrong_key_config))
    assert main(["status", ssh_env.url("anything")]) == 2
    err = capsys.readouterr().err
    assert "permission denied: ssh could not log in" in err
    assert "Permission denied (publickey)" in err


def test_unknown_host_key_is_refused(
    ssh_env: Sshd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POOLMON_SSH_CONFIG_FILE", str(ssh_env.no_known_hosts_config))
    assert main(["ls", ssh_env.url()]) == 2
    err = capsys.readouterr().err
    assert "host key unknown or changed" in err
    assert "Host key verification failed" in err


def test_malformed_targets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="write ssh://"):
        parse_ssh_url("ssh://")
    assert parse_ssh_url("ssh://ops@[::1]:2222/api").host == "::1"
    assert str(parse_ssh_url("ssh://ops@[::1]:2222/api")) == "ssh://ops@[::1]:2222/api"
    assert parse_ssh_url("ssh://h//run/x/api.sock").name == "/run/x/api.sock"
    assert main(["status", "ssh://host.example"]) == 2
    assert "name the pool: ssh://host.example/NAME" in capsys.readouterr().err
