"""Staying attached across disconnections: `ReconnectingClient`, `Backoff` and `Disconnected`.

A pool restarts, a socket breaks, a laptop sleeps: the terminal app must keep showing the pool
and pick up where it left off. `ReconnectingClient` wraps one `MonitorClient` per connection,
resumes from the last sequence number it saw, reports each drop as a `Disconnected` value (not
an exception, so a UI loop can show it) and waits with jittered exponential `Backoff` so many
monitors do not hammer a restarting pool in lock step.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poolmon.core.errors import ConnectionFailed
from poolmon.core.protocol import Frame, Reply

if TYPE_CHECKING:
    from poolmon.runtime.client import MonitorClient


@dataclass(slots=True)
class Backoff:
    """Exponential reconnection delays with jitter: first, first*factor, ... up to `cap`."""

    first_s: float = 0.1
    factor: float = 2.0
    cap_s: float = 5.0
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        base = min(self.cap_s, self.first_s * self.factor**self.attempt)
        self.attempt += 1
        return base * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        """Start over after a successful connection."""
        self.attempt = 0


@dataclass(frozen=True, slots=True)
class Disconnected:
    """Not a protocol frame: `ReconnectingClient.frames` yields it when the link drops."""

    reason: str
    retry_in_s: float
    attempt: int


class ReconnectingClient:
    """Frames from a pool across disconnections, resuming from the last sequence number.

    Each (re)connection yields the pool's WELCOME first, then the resume or backfill, then
    live frames; a lost connection yields `Disconnected` and is retried with `Backoff`.

    Args:
        path: Socket path.
        backoff: Reconnection delays.
        client_class: The client to connect with (`MonitorClient` when None).
        **options: `MonitorClient` keyword arguments.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backoff: Backoff | None = None,
        client_class: type[MonitorClient] | None = None,
        **options: Any,
    ) -> None:
        self.path = path
        self.backoff = backoff or Backoff()
        self._client_class = client_class
        self._options = options
        self.client: MonitorClient | None = None
        self.lost_records = 0
        """Lost records summed over every connection so far."""
        self._stop = threading.Event()

    def stop(self) -> None:
        """Make `frames()` return at its next chance and close the connection."""
        self._stop.set()
        if self.client is not None:
            self.client.close()

    def drop_connection(self) -> None:
        """Break the current connection as a failing link would; `frames()` then reconnects.

        For tests of what a monitor counts across reconnects, and for a user's "reconnect now".
        """
        client = self.client
        if client is not None:
            client.abort()

    def command(
        self, name: str, args: Mapping[str, Any] | None = None, timeout_s: float | None = None
    ) -> Reply:
        """Send a command on the current connection (ConnectionFailed if there is none)."""
        client = self.client
        if client is None or not client.connected:
            raise ConnectionFailed("not connected to the pool (reconnecting)")
        return client.command(name, args, timeout_s)

    def frames(self, poll_s: float = 0.5) -> Iterator[Frame | Disconnected]:
        """Yield frames (and `Disconnected` notices) until `stop()` is called."""
        resume: int | None = None
        since: int | None = None  # live rollups: the first second a resume must resend
        # Imported here: poolmon.runtime.client re-exports this module's names at its top.
        from poolmon.runtime.client import MonitorClient

        while not self._stop.is_set():
            client = (self._client_class or MonitorClient)(self.path, **self._options)
            try:
                welcome = client.connect(resume_seq=resume, rollups_since_s=since)
                self.client = client
                self.backoff.reset()
                yield welcome
                while not self._stop.is_set():
                    frame = client.recv(poll_s)
                    if frame is not None:
                        yield frame
            except ConnectionFailed as exc:
                if self._stop.is_set():
                    return
                resume = client.resume_seq if client.resume_seq is not None else resume
                since = client.rollups_until_s if client.rollups_until_s is not None else since
                self.lost_records += client.lost_records
                delay = self.backoff.next_delay()
                yield Disconnected(str(exc), delay, self.backoff.attempt)
                self._stop.wait(delay)
            finally:
                client.close()
