"""A real OpenSSH server on loopback, started once per module, and a real pool to reach through it.

The server has a throwaway host key and authorizes a throwaway client key, both made by
ssh-keygen in a temporary folder; the client is pointed at them by an ssh config file written
here (given to poolmon as `POOLMON_SSH_CONFIG_FILE`), with StrictHostKeyChecking and a
known_hosts file holding exactly the server's key. It listens on two ports: on the first, the
session's PATH holds this checkout's `poolmon` (the host "has poolmon installed"), on the second
it does not (poolmon falls back to listing the socket folders with sh). Where sshd, ssh or
ssh-keygen is missing, or sshd cannot start here, the tests skip and say which and why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from poolmon.demo.service import DemoService
from poolmon.runtime.endpoint.paths import socket_path

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    """A running sshd and the client files that reach it."""

    ports: tuple[int, int]
    """(port whose sessions have poolmon on PATH, port whose sessions do not)."""
    client_config: Path
    wrong_key_config: Path
    no_known_hosts_config: Path
    user: str
    log: Path

    def url(self, name: str = "", *, plain: bool = True) -> str:
        port = self.ports[1] if plain else self.ports[0]
        return f"ssh://{self.user}@127.0.0.1:{port}" + (f"/{name}" if name else "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "poolmon-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def _client_config(path: Path, key: Path, known_hosts: Path) -> Path:
    path.write_text(
        "Host *\n"
        f"  IdentityFile {key}\n"
        "  IdentitiesOnly yes\n"
        "  IdentityAgent none\n"
        f"  UserKnownHostsFile {known_hosts}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  LogLevel ERROR\n"
    )
    return path


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    for binary in (SSHD, "ssh", "ssh-keygen"):
        if shutil.which(binary) is None:
            pytest.skip(
                f"SKIPPED LOUDLY: {binary} is not installed (apt-get install openssh-server)"
            )
    folder = tmp_path_factory.mktemp("sshd")
    host_key = folder / "host_ed25519"
    host_pub = _keygen(host_key)
    client_key = folder / "client_ed25519"
    (folder / "authorized_keys").write_text(_keygen(client_key) + "\n")
    wrong_key = folder / "wrong_ed25519"
    _keygen(wrong_key)
    ports = (_free_port(), _free_port())
    known = folder / "known_hosts"
    known.write_text("".join(f"[127.0.0.1]:{p} {host_pub}\n" for p in ports))
    (folder / "empty_known_hosts").write_text("")
    venv_bin = os.path.dirname(sys.executable)
    config = folder / "sshd_config"
    config.write_text(
        f"Port {ports[0]}\nPort {ports[1]}\nListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
        "AllowStreamLocalForwarding yes\nAllowTcpForwarding yes\nLogLevel VERBOSE\n"
        f"SetEnv PATH={venv_bin}:/usr/local/bin:/usr/bin:/bin\n"
        f"Match LocalPort {ports[1]}\n  SetEnv PATH=/usr/local/bin:/usr/bin:/bin\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = folder / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 10
    while not all(_listening(p) for p in ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip(f"SKIPPED LOUDLY: sshd could not start here: {log.read_text()[-500:]}")
        time.sleep(0.05)
    user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
    try:
        yield Sshd(
            ports,
            _client_config(folder / "ssh_config", client_key, known),
            _client_config(folder / "wrong_key_config", wrong_key, known),
            _client_config(folder / "no_known_config", client_key, folder / "empty_known_hosts"),
            user,
            log,
        )
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def ssh_env(sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> Sshd:
    """poolmon's ssh pointed at the test server's client config; sockets in /tmp/poolmon-<uid>."""
    monkeypatch.setenv("POOLMON_SSH_CONFIG_FILE", str(sshd.client_config))
    monkeypatch.setenv("POOLMON_SSH_CONNECT_TIMEOUT", "5")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)  # sshd's sessions have none either
    monkeypatch.delenv("POOLMON_ENDPOINT_SOCKET_DIR", raising=False)
    return sshd


@pytest.fixture
def remote_pool(ssh_env: Sshd) -> Iterator[DemoService]:
    """A real pool under load whose socket is where the sshd session's user looks for it."""
    name = f"sshtest-{os.getpid()}"
    service = DemoService(name, 1, socket_path(name), rate_per_s=100).start()
    try:
        yield service
    finally:
        service.stop()
