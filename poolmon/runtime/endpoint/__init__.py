"""The monitor endpoint inside the pool process: socket, history, control (docs/PROTOCOL.md).

`EndpointServer(control, telemetry).start()` serves one pool; `PoolControl` is what it needs
from the pool; `paths` says where sockets live and finds them for `poolmon ls`.

The names below are imported on first use (PEP 562): a monitor needs only `paths` from this
package, and importing the server with it (its telemetry registry, history and control) was
about 25 ms of `poolmon attach`'s start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poolmon.runtime.endpoint.control import Limits, PoolControl
    from poolmon.runtime.endpoint.history import History
    from poolmon.runtime.endpoint.paths import list_sockets, socket_dir, socket_path
    from poolmon.runtime.endpoint.server import EndpointServer

_WHERE = {
    "EndpointServer": "server",
    "History": "history",
    "Limits": "control",
    "PoolControl": "control",
    "list_sockets": "paths",
    "socket_dir": "paths",
    "socket_path": "paths",
}

__all__ = [
    "EndpointServer",
    "History",
    "Limits",
    "PoolControl",
    "list_sockets",
    "socket_dir",
    "socket_path",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` when it is first asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
