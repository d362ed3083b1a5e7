"""One ssh connection to a host, used to list its pools and forward their sockets here.

Everything is done by the system's `ssh`, so keys, agents, jump hosts, known_hosts and
`~/.ssh/config` work as they do for the operator's own logins; poolmon never sees a password or
key. One master connection (`ssh -M -S <ctl> -N`) is opened per session and every other step
rides on it (ControlMaster): the remote listing (`ssh -S <ctl> host 'sh script'`) and each
socket forward (`ssh -S <ctl> -O forward -L local.sock:remote.sock`), so the user authenticates
once. The local sockets live in a private 0700 temporary folder, removed on `close()`. The ssh
child gets SIGTERM if this process dies (Linux PR_SET_PDEATHSIG; on a thread's exit too, so
open sessions from a thread that lives as long as they do), and `close()` ends it otherwise.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from poolmon.core.config.layers import Effective
from poolmon.core.errors import ConnectionFailed
from poolmon.runtime.ssh.errors import explain
from poolmon.runtime.ssh.url import SshUrl

_PR_SET_PDEATHSIG = 1
try:  # looked up before any fork: dlopen in a forked child of a threaded parent can deadlock
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent() -> None:
    """Run in the ssh child before exec: SIGTERM it when its parent goes away."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SshSession:
    """A master ssh connection to one host (see the module doc).

    Args:
        url: The target (its host, user and port are used; its name is not).
        ssh: The effective configuration's `[ssh]` settings (command, config file, options).
        batch: Never prompt (ssh BatchMode): for listing and scripts; `poolmon attach` from a
            terminal lets ssh ask for a passphrase or password.
    """

    def __init__(self, url: SshUrl, ssh: Effective, *, batch: bool = True) -> None:
        self.url = url
        self._command = str(ssh.get("ssh", "command"))
        self._config_file = ssh.get("ssh", "config_file")
        self._options = tuple(ssh.get("ssh", "options"))
        self._timeout_s = float(ssh.get("ssh", "connect_timeout"))
        self._batch = batch
        self.folder: Path | None = None
        self._master: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> SshSession:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _base(self) -> list[str]:
        """Arguments of every ssh call: config file, port, options, timeouts."""
        args = [self._command]
        if self._config_file:
            args += ["-F", str(self._config_file)]
        if self.url.port is not None:
            args += ["-p", str(self.url.port)]
        args += ["-o", f"ConnectTimeout={max(1, round(self._timeout_s))}"]
        if self._batch:
            args += ["-o", "BatchMode=yes"]
        for opt in self._options:
            args += ["-o", opt]
        return args

    @property
    def control(self) -> Path:
        """The master's control socket."""
        assert self.folder is not None
        return self.folder / "ctl"

    def open(self) -> SshSession:
        """Connect (authenticating as ssh does) and return self; ConnectionFailed says why not."""
        if shutil.which(self._command) is None:
            raise ConnectionFailed(f"cannot reach {self.url.host_url}: no {self._command!r} here")
        self.folder = Path(tempfile.mkdtemp(prefix="poolmon-ssh-"))  # 0700
        log = self.folder / "ssh.log"
        cmd = [*self._base(), "-M", "-S", str(self.control), "-N",
               "-o", "ControlPersist=no", "-o", "ExitOnForwardFailure=yes",
               self.url.destination]  # fmt: skip
        with open(log, "wb") as err:
            self._master = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,  # prompts use /dev/tty; the app owns the terminal
                stdout=subprocess.DEVNULL,
                stderr=err,
                preexec_fn=_die_with_parent,  # prctl only: nothing in it takes a lock
            )
        limit = self._timeout_s + 5 if self._batch else max(120.0, self._timeout_s + 5)
        deadline = time.monotonic() + limit
        while not self.control.exists():
            code = self._master.poll()
            if code is not None:
                text = log.read_text(errors="replace")
                self.close()
                raise ConnectionFailed(explain(self.url, text, code))
            if time.monotonic() > deadline:
                self.close()
                raise ConnectionFailed(
                    f"cannot reach {self.url.host_url}: ssh did not log in within {limit:.0f} s"
                )
            time.sleep(0.02)
        return self

    def close(self) -> None:
        """End the master connection (and its forwards) and remove the private folder."""
        master, self._master = self._master, None
        if master is not None and master.poll() is None:
            master.terminate()
            try:
                master.wait(5)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # ------------------------------------------------------------------ through the master
    def _mux(self) -> list[str]:
        return [*self._base(), "-S", str(self.control)]

    def run(self, script: str, timeout_s: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a shell command on the host over the master connection."""
        self._check_alive()
        try:
            return subprocess.run(
                [*self._mux(), self.url.destination, script],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            raise ConnectionFailed(
                f"{self.url.host_url}: a command on the host did not finish in {timeout_s:.0f} s"
            ) from None

    def forward(self, remote: str, local_name: str) -> Path:
        """Forward the host's Unix socket `remote` to a new local one; returns its path."""
        self._check_alive()
        assert self.folder is not None
        local = self.folder / local_name
        done = subprocess.run(
            [*self._mux(), "-O", "forward", "-L", f"{local}:{remote}", self.url.destination],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise ConnectionFailed(
                f"{self.url.host_url}: ssh could not forward {remote}: "
                f"{done.stderr.strip() or f'exit status {done.returncode}'}"
            )
        return local

    def _check_alive(self) -> None:
        master = self._master
        if master is None or master.poll() is not None:
            text = ""
            if self.folder is not None and (self.folder / "ssh.log").exists():
                text = (self.folder / "ssh.log").read_text(errors="replace")
            code = -1 if master is None else master.returncode
            raise ConnectionFailed(explain(self.url, text or "the connection closed", code))
