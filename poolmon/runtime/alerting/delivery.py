"""One channel's worker: a bounded queue, a rate limit, retries with backoff, and counters.

A notification that fails every attempt is handed back through `on_failed`, so the notifier
sends its group again at the next tick, as Alertmanager does (it logs only what was delivered);
drops are not handed back: a full queue or an empty token bucket means "too much", and more
would not help.

Each channel gets its own thread so one slow or dead receiver never holds up another channel,
the notifier's timers or the pool's alert evaluation: `offer` never blocks (a full queue drops
the notification and counts it), and the worker alone waits on the network. Every way a
notification can be lost is counted separately (`dropped`: queue full, `rate_limited`: the
token bucket said no, `failed`: every attempt failed) and reported through `on_error`, which the
alert service turns into a `poolmon.error` event and a self-monitoring figure. Drop reports are
throttled to one a minute per channel with the count since the last, so a flood of drops does
not become a flood of error events.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import ChannelConfig
from poolmon.core.alerts.token_bucket import TokenBucket
from poolmon.core.clock import Clock
from poolmon.runtime.alerting.channels.base import Channel, DeliveryError

ErrorHook = Callable[[str, BaseException | None], None]
"""`on_error(message, exception_or_None)`: how delivery problems leave the notifier."""

REPORT_EVERY_S: Final = 60.0
"""At most one drop report per channel per this many seconds."""

_STOP: Final = object()
log = logging.getLogger("poolmon.alerts")


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """One channel's counters since start (a copy; reading it takes no lock of the worker's)."""

    name: str
    kind: str
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    rate_limited: int = 0
    retries: int = 0
    queued: int = 0
    last_error: str = ""
    last_sent_ns: int | None = None

    @property
    def lost(self) -> int:
        """Notifications that never reached the receiver: failed, dropped or rate-limited."""
        return self.failed + self.dropped + self.rate_limited


class ChannelWorker:
    """Delivers one channel's notifications in its own daemon thread."""

    def __init__(
        self,
        config: ChannelConfig,
        channel: Channel,
        on_error: ErrorHook,
        clock: Clock,
        on_failed: Callable[[Notification], None] | None = None,
    ) -> None:
        self.config = config
        self._channel = channel
        self._on_error = on_error
        self._on_failed = on_failed
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue(maxsize=config.queue_size)
        self._bucket = TokenBucket(config.rate, clock.monotonic_ns() / 1e9)
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._counts = {"sent": 0, "failed": 0, "dropped": 0, "rate_limited": 0, "retries": 0}
        self._last_error = ""
        self._last_sent_ns: int | None = None
        self._unreported = 0
        self._drop_why = ""
        self._reported_at_s = -REPORT_EVERY_S
        self._thread = threading.Thread(
            target=self._run, name=f"poolmon-notify-{config.name}", daemon=True
        )

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def offer(self, n: Notification) -> None:
        """Queue `n` for delivery, or drop and count it (rate limit, full queue); never blocks."""
        now_s = self._clock.monotonic_ns() / 1e9
        with self._lock:
            allowed = self._bucket.take(now_s)
        if not allowed:
            self._lose("rate_limited", now_s, "over its rate limit")
            return
        try:
            self._queue.put_nowait(n)
        except queue.Full:
            self._lose("dropped", now_s, f"queue full ({self.config.queue_size})")

    def stop(self, timeout_s: float) -> bool:
        """Deliver what is queued within `timeout_s`, then stop; True if the thread ended."""
        if not self._thread.is_alive():
            self._channel.close()
            return True
        deadline_s = self._clock.monotonic_ns() / 1e9 + timeout_s
        try:
            self._queue.put(_STOP, timeout=max(0.0, timeout_s))
        except queue.Full:
            pass
        self._thread.join(max(0.0, deadline_s - self._clock.monotonic_ns() / 1e9))
        if self._thread.is_alive():
            self._abort.set()  # ends backoff waits; a send in flight ends at its own timeout
            self._thread.join(0.05)
        with self._lock:
            pending, self._unreported = self._unreported, 0
        if pending:
            self._report(
                f"channel {self.config.name!r} {self._drop_why}: {pending} notification(s) dropped",
                None,
            )
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            left += item is not _STOP
        if left:
            with self._lock:
                self._counts["dropped"] += left
            name = self.config.name
            self._report(f"channel {name!r}: {left} notification(s) undelivered at stop", None)
        if not self._thread.is_alive():
            self._channel.close()
        return not self._thread.is_alive()

    def stats(self) -> ChannelStats:
        """A copy of the counters."""
        with self._lock:
            return ChannelStats(
                name=self.config.name,
                kind=self.config.kind,
                queued=self._queue.qsize(),
                last_error=self._last_error,
                last_sent_ns=self._last_sent_ns,
                **self._counts,
            )

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or self._abort.is_set():
                return
            assert isinstance(item, Notification)
            try:
                self._deliver(item)
            except Exception as exc:  # never let a channel bug end the worker
                self._fail(f"channel {self.config.name!r}: {type(exc).__name__}: {exc}", exc)
            if self._abort.is_set():
                return

    def _deliver(self, n: Notification) -> None:
        retry = self.config.retry
        error: DeliveryError | None = None
        attempt = 0
        for attempt in range(1, retry.max_attempts + 1):
            try:
                self._channel.send(n)
            except DeliveryError as exc:
                error = exc
            else:
                with self._lock:
                    self._counts["sent"] += 1
                    self._last_sent_ns = self._clock.time_ns()
                return
            if error.permanent or attempt == retry.max_attempts:
                break
            wait_s = error.retry_after_s
            if wait_s is None:
                wait_s = retry.delay_s(attempt)
            elif wait_s > retry.cap_s:
                error = DeliveryError(
                    f"{error} (it asked to wait {wait_s:g}s, past backoff_cap {retry.cap_s:g}s)"
                )
                break
            with self._lock:
                self._counts["retries"] += 1
            if self._abort.wait(wait_s):
                break
        assert error is not None
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        self._fail(f"channel {self.config.name!r}: notification lost after {tries}: {error}", error)
        if self._on_failed is not None:
            self._on_failed(n)  # the notifier sends the group's state again at its next tick

    def _fail(self, message: str, exc: BaseException) -> None:
        with self._lock:
            self._counts["failed"] += 1
            self._last_error = message
        self._report(message, exc)

    def _lose(self, counter: str, now_s: float, why: str) -> None:
        with self._lock:
            self._counts[counter] += 1
            self._unreported += 1
            self._drop_why = why
            if now_s - self._reported_at_s < REPORT_EVERY_S:
                return
            count, self._unreported, self._reported_at_s = self._unreported, 0, now_s
            self._last_error = f"channel {self.config.name!r} {why}"
        self._report(f"channel {self.config.name!r} {why}: {count} notification(s) dropped", None)

    def _report(self, message: str, exc: BaseException | None) -> None:
        try:
            self._on_error(message, exc)
        except Exception:
            log.exception("poolmon notifier: on_error raised while reporting: %s", message)
