"""What every channel is: something that sends one notification or raises `DeliveryError`.

A channel does not retry, queue or rate-limit: the notifier's per-channel worker does that the
same way for all of them. A channel only says whether a failure is worth retrying and, for an
HTTP 429, when the receiver asked to be called again.
"""

from __future__ import annotations

from typing import Protocol

from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.errors import PoolmonError


class DeliveryError(PoolmonError):
    """A send failed.

    Attributes:
        retry_after_s: The receiver's own wait (HTTP 429/503 Retry-After), or None.
        permanent: Retrying cannot help (bad credentials, a 4xx answer): give up at once.
    """

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.permanent = permanent


class Channel(Protocol):
    """A notification destination; `send` runs in the channel's own worker thread only."""

    def send(self, n: Notification) -> None:
        """Deliver `n` within the channel's timeout, or raise `DeliveryError`."""
        ...

    def close(self) -> None:
        """Release files or connections (called once, at stop)."""
        ...
