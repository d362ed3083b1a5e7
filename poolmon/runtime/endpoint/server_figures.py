"""What the endpoint server reports about itself: monitors, backlogs, drops, queued bytes.

Split out of `server.EndpointServer` (a mixin it inherits) so the server module holds the
loop and the protocol: these are read-only figures, read from any thread (the pool's
`stats()`, `poolmon.resource.internals`, the `stats` command), each approximate by design -
they copy the connection table once and never take a lock the server thread could wait on.
"""

from __future__ import annotations

import time
from typing import Any

from poolmon.runtime.endpoint.connection import Connection
from poolmon.runtime.endpoint.history import History
from poolmon.runtime.endpoint.inbox import Inbox


class ServerFigures:
    """Read-only figures of the endpoint (see the module docstring).

    The server provides the state below.
    """

    _conns: dict[int, Connection]
    _inbox: Inbox | None
    history: History

    @property
    def monitors(self) -> int:
        """Monitors connected now."""
        return len(self._conns)

    @property
    def backlog(self) -> int:
        """Records waiting in the inbox for the server thread (a producer may pace on it)."""
        return len(self._inbox) if self._inbox is not None else 0

    @property
    def inbox_dropped(self) -> int:
        """Task rows and events dropped before numbering (the server thread fell behind)."""
        inbox = self._inbox
        return 0 if inbox is None else inbox.dropped_tasks + inbox.dropped_events

    @property
    def queued_bytes(self) -> int:
        """Bytes queued to monitors and not yet written to their sockets."""
        return sum(c.out_bytes for c in list(self._conns.values()))

    def internals(self) -> dict[str, int]:
        """Figures for `poolmon.resource.internals` (read from any thread; approximate)."""
        conns = list(self._conns.values())
        return {
            "monitors": len(conns),
            "socket_buffer_bytes": sum(c.out_bytes for c in conns),
            "history_events": self.history.held_events,
            "history_bytes": self.history.held_bytes,
            "telemetry_buffer_events": self.backlog,
            "events_dropped": self.inbox_dropped
            + sum(c.dropped_tasks + c.dropped_events for c in conns),
        }

    def _status(self) -> dict[str, Any]:
        """The endpoint's part of the `stats` command's result."""
        return {
            **self.history.recent_totals(time.time_ns()),
            "monitors": len(self._conns),
            "next_seq": self.history.next_seq,
            "inbox_dropped": self.inbox_dropped,
        }
