"""Find the pool a command names, and when it cannot, say exactly why and what to do.

Every verb that talks to one pool (`attach`, `status`, `tune`, `stack`, `advise`, the alert
verbs) resolves its NAME or SOCKET argument here, before any handshake, so a wrong target is
one precise line instead of a guess: a name with no socket says which folder was searched and
which live pools are there (with a did-you-mean); a path to a regular file says "not a
socket", not "stale socket"; a socket nobody listens on says stale and points at `poolmon ls
--prune`; a socket another user owns says permission denied, and whose it is. Only what is
truly a live listener is handed on to the protocol client.
"""

from __future__ import annotations

import difflib
import errno
import os
import pwd
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poolmon.core.errors import ConnectionFailed
from poolmon.runtime.endpoint.paths import SOCKET_SUFFIX, list_sockets, probe, socket_dir

Verdict = Literal["missing", "not_socket", "permission", "stale", "live"]
"""What is at a path: nothing, not a socket, a socket we may not use, a dead one, a live one."""

PROBE_TIMEOUT_S = 1.0
"""How long a connect may take before we decide someone is there (a full backlog)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What `inspect` found at a path, with the detail a message needs.

    Attributes:
        verdict: See `Verdict`.
        kind: For `not_socket`: "a regular file", "a folder", ...
        owner_uid: The file's owner (None when it could not be read).
    """

    verdict: Verdict
    kind: str = ""
    owner_uid: int | None = None


_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def inspect(path: Path, timeout_s: float = PROBE_TIMEOUT_S, *, connect: bool = True) -> Finding:
    """Look at `path` and (with `connect`) try to connect, without speaking the protocol.

    Without `connect` a socket file reads `live`: only a connection can tell it is stale, and
    `locate` leaves that to the protocol client's one connection (`refused`/`denied`), so a
    server that accepts a single connection is not spent on a probe.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return Finding("missing")
    except NotADirectoryError:
        return Finding("missing")
    except PermissionError:
        return Finding("permission")
    if not stat.S_ISSOCK(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a socket")
        return Finding("not_socket", kind, info.st_uid)
    if not connect:
        return Finding("live", owner_uid=info.st_uid)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(os.fspath(path))
    except ConnectionRefusedError:
        return Finding("stale", owner_uid=info.st_uid)
    except PermissionError:
        return Finding("permission", owner_uid=info.st_uid)
    except FileNotFoundError:  # removed between stat and connect
        return Finding("missing")
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return Finding("permission", owner_uid=info.st_uid)
        return Finding("live", owner_uid=info.st_uid)  # a timeout or full backlog: someone is there
    finally:
        sock.close()
    return Finding("live", owner_uid=info.st_uid)


def _user(uid: int | None) -> str:
    if uid is None:
        return "another user"
    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def live_names(folder: Path) -> list[str]:
    """The names of the pools that accept connections in `folder` (stale sockets left out)."""
    return [
        p.name.removesuffix(SOCKET_SUFFIX) for p in list_sockets(folder) if probe(p, timeout_s=0.5)
    ]


def pools_hint(folder: Path, wanted: str | None = None) -> str:
    """`running there: a, b; did you mean 'a'?` or `no pool is running there`, then `poolmon ls`."""
    names = live_names(folder)
    if not names:
        return "no pool is running there (`poolmon ls` lists the pools and stale sockets)"
    text = "running there: " + ", ".join(names)
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5) if wanted else []
    if close:
        text += f"; did you mean {close[0]!r}?"
    return text + " (`poolmon ls` lists them)"


def explain(path: Path, finding: Finding) -> str:
    """The one-line reason `path` cannot be attached to (for any verdict but `live`)."""
    if finding.verdict == "missing":
        return (
            f"no pool socket at {path} (nothing is there); `poolmon ls` lists the pools in "
            f"{socket_dir()}"
        )
    if finding.verdict == "not_socket":
        return (
            f"{path} is not a socket (it is {finding.kind}): give a pool's name or the socket "
            "it serves (`poolmon ls` lists them)"
        )
    if finding.verdict == "permission":
        return (
            f"permission denied: cannot connect to {path} (owned by {_user(finding.owner_uid)}; "
            f"you are {_user(os.getuid())}): a pool's socket is private to the user who started "
            "it, so run poolmon as that user"
        )
    if finding.verdict == "stale":
        return (
            f"stale socket: nothing listens at {path} (its pool exited without removing it); "
            "`poolmon ls --prune` removes stale sockets"
        )
    return f"{path} is a live socket"


def refused(path: Path) -> str:
    """The reason for a refused connection: a stale socket, or not a socket at all."""
    finding = inspect(path, connect=False)
    return explain(path, finding if finding.verdict != "live" else Finding("stale"))


def denied(path: Path) -> str:
    """The reason for a connection refused for lack of permission, naming the owner."""
    try:
        owner: int | None = path.stat().st_uid
    except OSError:
        owner = None
    return explain(path, Finding("permission", owner_uid=owner))


def looks_like_path(spec: str) -> bool:
    """A path (has a `/`, or names a file that exists here) rather than a bare pool name."""
    return os.sep in spec or Path(spec).exists()


def locate(spec: str) -> Path:
    """The live socket `spec` (a pool name or a socket path) names.

    Raises:
        ConnectionFailed: Nothing is there, it is not a socket, nobody listens (stale), or it
            belongs to another user; the message says which and what to do.
    """
    if looks_like_path(spec):
        path = Path(spec)
        finding = inspect(path, connect=False)
        if finding.verdict != "live":
            raise ConnectionFailed(explain(path, finding))
        return path
    folder = socket_dir()
    path = folder / f"{spec.removesuffix(SOCKET_SUFFIX)}{SOCKET_SUFFIX}"
    finding = inspect(path, connect=False)
    if finding.verdict == "missing":
        raise ConnectionFailed(
            f"no pool named {spec!r}: looked for {path.name} in the socket folder {folder}; "
            + pools_hint(folder, spec)
        )
    if finding.verdict != "live":
        raise ConnectionFailed(explain(path, finding))
    return path
