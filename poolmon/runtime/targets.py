"""What `attach`, `status`, `ls` (and `watch`) are pointed at: a pool here or over ssh.

A target is a pool name, a socket path, or `ssh://[user@]host[:port]/NAME`. `open_target`
resolves any of them to a local socket path that the ordinary client can connect to, and keeps
whatever that needs (an ssh master connection and its forward) alive until the `with` block
ends; `list_target` answers `poolmon ls [ssh://host]`. Every verb calls these two, so a verb
that gains ssh support costs nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConfigError
from poolmon.runtime import config
from poolmon.runtime.ssh.url import is_ssh, parse_ssh_url


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved target.

    Attributes:
        path: The local socket to connect to (for ssh, the forward in a private folder).
        label: What to call it in messages and output (the socket, or the ssh:// URL).
        remote: True when the pool is on another machine.
    """

    path: Path
    label: str
    remote: bool = False


@contextmanager
def open_target(spec: str | None, *, batch: bool = True) -> Iterator[Target]:
    """Resolve `spec` (see the module doc) for the duration of the block.

    Args:
        spec: Name, path, ssh:// URL, or None for the only pool running here.
        batch: For ssh: never prompt (False lets ssh ask for a passphrase on the terminal).

    Raises:
        ConnectionFailed: No such pool, or the host cannot be reached (ssh's reason included).
        ConfigError: A malformed target.
    """
    if not is_ssh(spec):
        from poolmon.runtime.commands import resolve_socket

        path = resolve_socket(spec)
        yield Target(path, str(path))
        return
    assert spec is not None
    url = parse_ssh_url(spec)
    if url.name is None:
        raise ConfigError(f"{spec}: name the pool: {url.host_url}/NAME (poolmon ls {url.host_url})")
    from poolmon.runtime.ssh.remote import open_remote_pool
    from poolmon.runtime.ssh.session import SshSession

    with SshSession(url, config.current(), batch=batch) as session:
        yield Target(open_remote_pool(session, url.name), str(url), remote=True)


def list_target(spec: str | None) -> tuple[str, list[dict[str, Any]]]:
    """`poolmon ls` for this machine (None) or an ssh:// host: (where, rows)."""
    from poolmon.runtime.commands import describe_pool
    from poolmon.runtime.endpoint.paths import list_sockets, socket_dir

    if spec is None:
        return str(socket_dir()), [describe_pool(p) for p in list_sockets()]
    if not is_ssh(spec):
        raise ConfigError(f"poolmon ls lists this machine, or ssh://[user@]host; got {spec!r}")
    url = parse_ssh_url(spec)
    from poolmon.runtime.ssh.remote import list_remote
    from poolmon.runtime.ssh.session import SshSession

    with SshSession(url, config.current(), batch=True) as session:
        return url.host_url, list_remote(session)
