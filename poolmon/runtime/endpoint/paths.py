"""Where pool sockets live, how they are created safely, and how a stale one is told apart.

The default place (unless poolmon.toml's `[endpoint] socket_dir` says otherwise) is
`$XDG_RUNTIME_DIR/poolmon/<name>.sock` (a per-user tmpfs on systemd
machines), else `<tempdir>/poolmon-<uid>/<name>.sock`. The folder is created 0700 and must be
owned by us: a socket in a folder another user controls could be swapped under us. The socket is
chmod-ed 0600 right after bind, and since the folder is already private nobody can reach it in
between. A socket file left by a pool that died is detected by connecting to it (refused ->
stale) and replaced; a live one is never touched.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from poolmon.core.errors import ConfigError

SOCKET_SUFFIX: Final = ".sock"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_MAX_PATH: Final = 107  # sun_path is 108 bytes including the terminating NUL


def socket_dir() -> Path:
    """The folder this user's pool sockets go in ([endpoint] socket_dir, else the default)."""
    from poolmon.runtime import config

    configured = config.current().get("endpoint", "socket_dir")
    if configured:
        return Path(configured)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "poolmon"
    return Path(tempfile.gettempdir()) / f"poolmon-{os.getuid()}"


def check_name(name: str) -> str:
    """Return `name` if it can name a socket file, else raise `ConfigError`."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"pool name {name!r} cannot name a socket: use 1-64 letters, digits, '_', '.', '-' "
            "(not starting with '.' or '-')"
        )
    return name


def socket_path(name: str, directory: Path | None = None) -> Path:
    """The default socket path of the pool called `name`."""
    return (directory or socket_dir()) / f"{check_name(name)}{SOCKET_SUFFIX}"


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` 0700 if needed; refuse one owned by someone else or open to others.

    Raises:
        ConfigError: The folder belongs to another user, is not a folder, or cannot be made.
    """
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise ConfigError(f"cannot create the socket folder {directory}: {exc}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"socket folder {directory} exists and is not a folder")
    if info.st_uid != os.getuid():
        raise ConfigError(
            f"socket folder {directory} belongs to uid {info.st_uid}, not to us ({os.getuid()})"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(directory, 0o700)


def probe(path: Path, timeout_s: float = 0.5) -> bool:
    """True if something accepts connections at `path`; False if refused or missing (stale)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError as exc:
        # anything else (a full backlog, a timeout) means someone is there
        return exc.errno not in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK)
    finally:
        sock.close()
    return True


@dataclass(frozen=True, slots=True)
class BoundSocket:
    """A listening socket and the file it is bound to (its identity, to unlink only our own)."""

    sock: socket.socket
    path: Path
    dev: int
    ino: int

    def unlink(self) -> None:
        """Remove the socket file if it is still the one we created."""
        try:
            info = self.path.lstat()
        except FileNotFoundError:
            return
        if (info.st_dev, info.st_ino) == (self.dev, self.ino):
            self.path.unlink(missing_ok=True)


def bind_listener(path: Path, backlog: int = 16) -> BoundSocket:
    """Bind and listen on `path`, replacing a stale socket file, never a live one.

    Raises:
        ConfigError: The path is too long for AF_UNIX, is not a socket, or a live pool is
            already serving there.
    """
    if len(os.fsencode(path)) > _MAX_PATH:
        raise ConfigError(f"socket path {path} is longer than {_MAX_PATH} bytes (AF_UNIX limit)")
    ensure_private_dir(path.parent)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ConfigError(f"{path} exists and is not a socket; refusing to replace it")
        if probe(path):
            raise ConfigError(f"a live pool is already serving at {path}; choose another name")
        path.unlink(missing_ok=True)  # stale: its pool died without cleaning up
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(os.fspath(path))
        os.chmod(path, 0o600)
        sock.listen(backlog)
        sock.setblocking(False)
        info = path.lstat()
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {path}: {exc}") from exc
    return BoundSocket(sock, path, info.st_dev, info.st_ino)


def list_sockets(directory: Path | None = None) -> list[Path]:
    """Socket files in this user's socket folder, sorted by name (alive or stale)."""
    folder = directory or socket_dir()
    try:
        entries = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    found = []
    for entry in entries:
        if entry.name.endswith(SOCKET_SUFFIX):
            try:
                if stat.S_ISSOCK(entry.lstat().st_mode):
                    found.append(entry)
            except OSError:
                continue
    return found
