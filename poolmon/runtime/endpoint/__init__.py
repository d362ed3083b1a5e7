"""The monitor endpoint inside the pool process: socket, history, control (docs/PROTOCOL.md).

`EndpointServer(control, telemetry).start()` serves one pool; `PoolControl` is what it needs
from the pool; `paths` says where sockets live and finds them for `poolmon ls`.
"""

from __future__ import annotations

from poolmon.runtime.endpoint.control import Limits, PoolControl
from poolmon.runtime.endpoint.history import History
from poolmon.runtime.endpoint.paths import list_sockets, socket_dir, socket_path
from poolmon.runtime.endpoint.server import EndpointServer

__all__ = [
    "EndpointServer",
    "History",
    "Limits",
    "PoolControl",
    "list_sockets",
    "socket_dir",
    "socket_path",
]
