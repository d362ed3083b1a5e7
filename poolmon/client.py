"""The public monitor client: connect to a running pool, read its telemetry, send commands.

Example::

    from poolmon.client import connect

    with connect() as client:              # the only pool on this machine, or pass its socket
        print(client.welcome.pool)
        for frame in client:               # WELCOME came first; then backfill, then live frames
            ...
        client.command("resize", {"size": 8})

`ReconnectingClient` keeps a stream going across pool restarts and network-less hiccups,
resuming from the last sequence number. Frame types and their fields: docs/PROTOCOL.md.
"""

from __future__ import annotations

import os
from typing import Any

from poolmon.core.protocol import (
    Batch,
    Close,
    Error,
    Frame,
    Heartbeat,
    HistoryEnd,
    Reply,
    Rollups,
    Welcome,
)
from poolmon.runtime.client import Backoff, Disconnected, MonitorClient, ReconnectingClient
from poolmon.runtime.commands import describe_pool, resolve_socket
from poolmon.runtime.endpoint.paths import list_sockets, socket_dir, socket_path


def connect(path: str | os.PathLike[str] | None = None, **options: Any) -> MonitorClient:
    """Connect and subscribe to a pool; `path` may be a socket path, a pool name, or None.

    Keyword options are `MonitorClient`'s (read_only, events, tasks, history, ...).

    Raises:
        ConnectionFailed: No such pool, several pools and none named, or the pool refused.
    """
    client = MonitorClient(resolve_socket(None if path is None else os.fspath(path)), **options)
    client.connect()
    return client


__all__ = [
    "Backoff",
    "Batch",
    "Close",
    "Disconnected",
    "Error",
    "Frame",
    "Heartbeat",
    "HistoryEnd",
    "MonitorClient",
    "ReconnectingClient",
    "Reply",
    "Rollups",
    "Welcome",
    "connect",
    "describe_pool",
    "list_sockets",
    "socket_dir",
    "socket_path",
]
