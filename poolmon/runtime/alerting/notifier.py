"""The notifier: turns the pool's alert state into notifications, without ever holding it up.

The alert service calls `update(view)` once a second from the pool's evaluation hook; `update`
only stores the view and wakes the notifier's own thread, so it never blocks and never raises.
Storing only the latest view loses nothing: a view is the whole alert state (resolved alerts
stay in it for a while), so a newer one supersedes any older one not yet looked at.

The notifier's thread runs the pure `Router` (grouping, group_wait / group_interval /
repeat_interval, Alertmanager resends; poolmon.core.alerts.notify_groups) at every new view and
whenever one of its timers is due, and hands each notification to its channel's worker
(poolmon.runtime.alerting.delivery), which queues, rate-limits, retries and counts. Failures
come out through `on_error(message, exc)`; without one they are logged on `poolmon.alerts`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from poolmon.core.alerts.model import AlertsView
from poolmon.core.alerts.notify_groups import Notification, Router
from poolmon.core.alerts.notify_model import NotifyConfig, Secret
from poolmon.core.clock import Clock, SystemClock
from poolmon.runtime.alerting.channels import build_channel
from poolmon.runtime.alerting.delivery import ChannelStats, ChannelWorker, ErrorHook
from poolmon.runtime.alerting.secret_source import read_channel_secrets

log = logging.getLogger("poolmon.alerts")

IDLE_WAKE_S = 1.0
"""The notifier's thread wakes at least this often (resolved-resend ages, stop checks)."""


def _log_error(message: str, exc: BaseException | None) -> None:
    log.warning("%s", message)


class Notifier:
    """Sends a pool's alert notifications to its channels (see module doc).

    Args:
        config: The parsed `[notify]` and `[[channels]]` settings.
        pool_name: The pool the alerts are from (in every notification).
        on_error: Called as `on_error(message, exc)` from the notifier's threads for every
            failed, dropped or rate-limited notification (drops throttled); must not block.
        clock: Time source (tests may pass a manual one for the timers' decisions).
        secrets: The channels' secrets by channel name, as `read_channel_secrets` returns
            them (a pool reads them when it loads its alerts file); None: read them now.

    Raises:
        NotifyConfigError: `secrets` is None and a channel's secret cannot be read (every
            such problem listed).
    """

    def __init__(
        self,
        config: NotifyConfig,
        pool_name: str,
        *,
        on_error: ErrorHook | None = None,
        clock: Clock | None = None,
        secrets: Mapping[str, Secret] | None = None,
    ) -> None:
        if secrets is None:
            secrets = read_channel_secrets(config)
        self._clock = clock or SystemClock()
        self._on_error = on_error or _log_error
        self._router = Router(config, pool_name)
        self._workers: dict[str, ChannelWorker] = {}
        for channel in config.channels:
            built = build_channel(channel, config.resend_interval_s, secrets.get(channel.name))
            self._workers[channel.name] = ChannelWorker(
                channel, built, self._on_error, self._clock, self._undelivered
            )
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._latest: AlertsView | None = None
        self._failed: list[Notification] = []
        self._thread = threading.Thread(target=self._run, name="poolmon-notifier", daemon=True)

    def start(self) -> None:
        """Start the channel workers and the notifier's thread."""
        for worker in self._workers.values():
            worker.start()
        self._thread.start()

    def update(self, view: AlertsView) -> None:
        """Hand over the latest alert state; returns at once, never raises."""
        with self._lock:
            self._latest = view
        self._wake.set()

    def _undelivered(self, n: Notification) -> None:
        """A channel gave up on `n` (from its worker thread): tell the router at the next step."""
        with self._lock:
            self._failed.append(n)
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop deciding, give channels up to `timeout` s to deliver what is queued.

        Returns:
            True if every thread ended (a send stuck past its own timeout may outlive this;
            all threads are daemons, so they never keep the process alive).
        """
        start_s = self._clock.monotonic_ns() / 1e9
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        ended = not self._thread.is_alive()
        for worker in self._workers.values():
            left = timeout - (self._clock.monotonic_ns() / 1e9 - start_s)
            ended = worker.stop(max(0.0, left)) and ended
        return ended

    @property
    def dropped(self) -> int:
        """Notifications lost so far on every channel: dropped, rate-limited or failed."""
        return sum(s.lost for s in self.stats().values())

    def stats(self) -> Mapping[str, ChannelStats]:
        """Per-channel counters, by channel name."""
        return {name: w.stats() for name, w in self._workers.items()}

    def _run(self) -> None:
        while True:
            with self._lock:
                view, self._latest = self._latest, None
                failed, self._failed = self._failed, []
                stopping = self._stopping
            if stopping:
                return
            now_s = self._clock.monotonic_ns() / 1e9
            try:
                for n in failed:
                    self._router.undelivered(n, now_s)
                notes = self._router.step(view, now_s, self._clock.time_ns())
                for n in notes:
                    self._workers[n.channel].offer(n)
                due = self._router.next_due_s()
            except Exception as exc:  # a bug here must not end notifications for good
                log.exception("poolmon notifier: deciding notifications failed")
                try:
                    self._on_error(f"notifier: {type(exc).__name__}: {exc}", exc)
                except Exception:
                    log.exception("poolmon notifier: on_error raised")
                due = None
            wait_s = IDLE_WAKE_S if due is None else min(IDLE_WAKE_S, max(0.0, due - now_s))
            self._wake.wait(wait_s)
            self._wake.clear()
