"""Who is at the other end of a pool socket that accepted us but does not answer.

Why: a pool whose process is stopped (SIGSTOP, ctrl-z) or whose endpoint thread cannot run
still has its socket accepting connections (the kernel does that), so a client only sees
silence: `no WELCOME within 3.0 s` told an operator nothing about which process to look at.
On Linux the socket says which process holds its other end (`SO_PEERCRED`), and /proc says
whether that process is stopped, a zombie, or running without answering, so the message
names the pid and what to do.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

_PROC_STATES = {
    "R": "running",
    "S": "sleeping",
    "D": "in an uninterruptible wait (disk or a kernel lock)",
    "T": "stopped",
    "t": "stopped by a debugger",
    "Z": "a zombie",
}
"""/proc/PID/stat's state letters, in words."""


def peer_pid(sock: socket.socket) -> int | None:
    """The pid holding the other end of a connected Unix socket; None where not known."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    pid = struct.unpack("3i", creds)[0]
    return pid if pid > 0 else None


def process_state(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The state letter of process `pid` (R, S, D, T, t, Z...); None when it cannot be read."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] if fields else None


def process_name(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The command name of process `pid` (/proc/PID/comm); None when it cannot be read."""
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return None


def pool_pid(sock: socket.socket) -> int | None:
    """The pool's pid at the other end, or None when it is not the pool itself.

    An `ssh://` target's socket is a local forward held by the ssh client: its peer is ssh,
    and naming that pid as the pool's would send the operator to the wrong process.
    """
    pid = peer_pid(sock)
    return None if pid is None or process_name(pid) == "ssh" else pid


def silent_pool(path: Path, pid: int | None, timeout_s: float, state: str | None) -> str:
    """Why a pool that accepted the connection sent no WELCOME, and what to do about it."""
    waited = f"sent no WELCOME within {timeout_s:g} s"
    if pid is None:
        return f"{path}: the pool accepted the connection but {waited}: it is hung or stopped"
    if state == "T":
        return (
            f"{path}: the pool's process {pid} is stopped (state T), so it {waited}; "
            f"`kill -CONT {pid}` resumes it"
        )
    if state == "t":
        return (
            f"{path}: the pool's process {pid} is stopped by a debugger (state t), so it "
            f"{waited}; it runs again when the debugger lets it go"
        )
    if state == "Z":
        return f"{path}: the pool's process {pid} has exited (a zombie its parent has not reaped)"
    words = _PROC_STATES.get(state or "", "alive")
    return (
        f"{path}: the pool's process {pid} is {words} but {waited}: its endpoint thread is not "
        f"getting to run (the process holds the GIL in C code, or is hung); "
        f"`py-spy dump --pid {pid}` shows where its threads are"
    )
