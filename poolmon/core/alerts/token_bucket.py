"""A token bucket: a channel's rate limit, a fuse against a flapping rule set flooding a receiver.

Upstream Alertmanager has no per-receiver limit; Cortex added one to its email integration
(rate + burst, a limited send counted as failed), which is what poolmon does per channel. Pure:
the caller passes the time, so tests need no sleeping.
"""

from __future__ import annotations

from poolmon.core.alerts.notify_model import RateLimit


class TokenBucket:
    """`burst` sends at once, refilled at `per_minute`; `per_minute == 0` never limits."""

    __slots__ = ("_burst", "_last_s", "_per_s", "_tokens")

    def __init__(self, limit: RateLimit, now_s: float) -> None:
        self._per_s = limit.per_minute / 60.0
        self._burst = float(limit.burst)
        self._tokens = self._burst
        self._last_s = now_s

    def take(self, now_s: float) -> bool:
        """Spend one token if there is one at `now_s` (monotonic seconds); False if limited."""
        if self._per_s <= 0:
            return True
        self._tokens = min(self._burst, self._tokens + (now_s - self._last_s) * self._per_s)
        self._last_s = max(self._last_s, now_s)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
