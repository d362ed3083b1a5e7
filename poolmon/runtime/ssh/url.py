"""`ssh://[user@]host[:port][/NAME]`: a pool (or a host's pools) on another machine.

NAME is a pool name as `poolmon ls` shows it there, or, after a second slash, the remote
socket's absolute path (`ssh://host//run/user/1000/poolmon/api.sock`). IPv6 hosts are written
in brackets, as in any URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from poolmon.core.errors import ConfigError

SCHEME = "ssh://"
_URL = re.compile(
    r"^ssh://(?:(?P<user>[^@/\s]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/@\s\[\]]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<path>/.*)?$"
)


@dataclass(frozen=True, slots=True)
class SshUrl:
    """A parsed ssh:// target.

    Attributes:
        user: Login name, or None for ssh's default (its config, else the local user).
        host: Host name or address (IPv6 without brackets).
        port: Port, or None for ssh's default.
        name: Pool name, or an absolute remote socket path; None for the whole host.
    """

    user: str | None
    host: str
    port: int | None
    name: str | None

    @property
    def destination(self) -> str:
        """`user@host` (or `host`) as ssh takes it."""
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def host_url(self) -> str:
        """`ssh://[user@]host[:port]` without the pool."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{SCHEME}{self.user + '@' if self.user else ''}{host}{port}"

    def __str__(self) -> str:
        return self.host_url + (f"/{self.name}" if self.name else "")


def is_ssh(spec: object) -> bool:
    """True when `spec` is an ssh:// target."""
    return isinstance(spec, str) and spec.startswith(SCHEME)


def parse_ssh_url(spec: str) -> SshUrl:
    """Parse `ssh://[user@]host[:port][/NAME]` (ConfigError saying the form when it is not)."""
    m = _URL.match(spec.strip())
    if m is None:
        raise ConfigError(f"{spec!r} is not an ssh target: write ssh://[user@]host[:port]/NAME")
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"{spec!r}: port {port} is not in 1-65535")
    path = (m.group("path") or "")[1:]
    name = path if path.startswith("/") else path.strip("/") or None
    if name is not None and not name.startswith("/") and "/" in name:
        raise ConfigError(
            f"{spec!r}: after the host comes one pool name, or //the/remote/socket.sock"
        )
    host = m.group("host").strip("[]")
    return SshUrl(m.group("user"), host, port, name)
