"""The alert service: the pure engine run once a second inside the pool, its state kept on disk.

Why here and shaped like this:

* Alerts must exist whether or not anyone watches, and every monitor must see the same ones,
  so the engine runs in the pool process as an `Insight` hook: once a second, in the monitor
  endpoint's thread, right after that second's telemetry was fed to the pool's own aggregator.
  The endpoint's commands (ack, silence, ...) run in that same thread, so the engine is only
  ever touched by one thread and needs no lock. Nothing here is on the task path.
* What monitors see is one event, `poolmon.alert.state`, carrying the whole `AlertsView`: sent
  when the view's revision changes (a new state, an ack, a silence) and at least every
  `emit_every_s` otherwise, so a monitor attaching late gets it from history within seconds.
* Notifications are the notifier's business: it gets every view and works on its own thread;
  `update` never blocks, so a slow mail server never delays an evaluation.
* State (acks, silences, history, pending `for` timers) is saved atomically to the state file
  at most every `persist_every_s` when it changed, and once more when the pool stops; a bad
  file means a clean start with a warning, never a pool that will not start (state_file.py).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from poolmon.core.alerts.model import FIRING, PENDING, AlertError, AlertsView
from poolmon.core.catalog import ALERT_STATE
from poolmon.runtime.alerting.state_file import StateFile
from poolmon.runtime.telemetry import Telemetry, emit_error_event

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator
    from poolmon.core.alerts.engine import AlertEngine
    from poolmon.runtime.alerting.notifier import Notifier
    from poolmon.runtime.endpoint.server import EndpointServer

HOOK_NAME: Final = "alerts"
"""The service's name among the insight hooks."""

log = logging.getLogger("poolmon.alerts")


class AlertService:
    """Evaluates a pool's alert rules each second, publishes the state, keeps it on disk.

    Args:
        engine: The rule engine (`poolmon.core.alerts.engine.AlertEngine`).
        pool: The pool's name (every event's `pool`).
        telemetry: Where `poolmon.alert.state`, `poolmon.alert.ack` and errors go.
        state: The state file, or None to keep nothing across restarts.
        notifier: The notification channels' dispatcher, or None for none.
        emit_every_s: Longest time between two `poolmon.alert.state` events.
        persist_every_s: Shortest time between two writes of the state file.
        clock_ns: Wall clock for commands and saves (the hook is given its time).
    """

    def __init__(
        self,
        engine: AlertEngine,
        *,
        pool: str,
        telemetry: Telemetry,
        state: StateFile | None = None,
        notifier: Notifier | None = None,
        emit_every_s: float = 5.0,
        persist_every_s: float = 3.0,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.engine = engine
        self.pool = pool
        self.telemetry = telemetry
        self.state = state
        self.notifier = notifier
        self._emit_every_ns = int(emit_every_s * 1e9)
        self._persist_every_ns = int(persist_every_s * 1e9)
        self._clock_ns = clock_ns
        self._endpoint: EndpointServer | None = None
        self._view = AlertsView(pool=pool)
        self._emitted_key: tuple[int, int] | None = None
        self._emitted_at_ns = 0
        self._saved_revision: int | None = None
        self._saved_at_ns = 0
        self._save_problem = ""
        self._stopped = False
        self.evaluations = 0
        """Evaluations run since start."""
        self.evaluation_ns = 0
        """Time spent in the hook (evaluation, publishing, saving) since start, summed."""
        self.restore_problem = ""
        """Why the saved state was not used at start ("" when it was, or there was none)."""

    # ------------------------------------------------------------------ lifecycle
    def start(self, endpoint: EndpointServer) -> AlertService:
        """Restore the saved state, register the commands and the hook, start the notifier."""
        from poolmon.runtime.alerting.commands import register_alert_commands

        self._restore()
        self._view = self._current_view()
        register_alert_commands(endpoint.commands, self)
        if self.notifier is not None:
            self.notifier.start()
        self._endpoint = endpoint
        endpoint.insight.add_hook(HOOK_NAME, self.on_second)
        return self

    def pause(self) -> None:
        """Stop evaluating (the hook is removed; commands still answer). For benchmarks."""
        if self._endpoint is not None:
            self._endpoint.insight.remove_hook(HOOK_NAME)

    def resume(self) -> None:
        """Evaluate again after `pause`."""
        if self._endpoint is not None and not self._stopped:
            self._endpoint.insight.add_hook(HOOK_NAME, self.on_second)

    def stop(self) -> None:
        """Save the state and stop the notifier; call once the endpoint's thread has ended.

        Saves only if something changed since the last save; never raises: a pool shutting
        down must finish even if the disk is full.
        """
        if self._stopped:
            return
        self._stopped = True
        self.pause()
        try:
            self._save(self._clock_ns(), force=True)
        finally:
            if self.notifier is not None:
                try:
                    self.notifier.stop(2.0)
                except Exception as exc:
                    self._error("warning", f"alert notifier did not stop cleanly: {exc}", exc)

    @property
    def endpoint(self) -> EndpointServer | None:
        """The endpoint the service runs in (None before `start`)."""
        return self._endpoint

    def engine_time(self) -> int:
        """Wall-clock ns for an operation outside the hook (a command)."""
        return self._clock_ns()

    @property
    def view(self) -> AlertsView:
        """The latest view (immutable; safe to read from any thread)."""
        return self._view

    # ------------------------------------------------------------------ each second
    def on_second(self, agg: Aggregator, now_ns: int) -> None:
        """The insight hook: evaluate, report disabled rules, publish, notify, maybe save."""
        started = time.perf_counter_ns()
        self.engine.evaluate(agg, now_ns)
        self.evaluations += 1
        for disabled in self.engine.take_new_disabled():
            self._error(
                "error",
                f"alert rule {disabled.rule!r} disabled: it raised during evaluation "
                f"({disabled.reason}); the other rules keep running",
            )
        self.changed(now_ns)
        self._save(now_ns, force=False)
        self.evaluation_ns += time.perf_counter_ns() - started

    def changed(self, now_ns: int) -> AlertsView:
        """Publish the engine's current view: to the notifier, and as an event when due.

        Called after every evaluation and by the commands after an ack or a silence, so every
        attached monitor sees an acknowledgment at once, not at the next evaluation.
        """
        view = self._view = self._current_view()
        if self.notifier is not None:
            self.notifier.update(view)
        key = (view.revision, view.notifications_dropped)
        if key != self._emitted_key or now_ns - self._emitted_at_ns >= self._emit_every_ns:
            self._emitted_key, self._emitted_at_ns = key, now_ns
            self._emit_state(view)
        return view

    def note_ack(self, alert_id: str, by: str) -> None:
        """Broadcast an acknowledgment as `poolmon.alert.ack` (monitors may toast it)."""
        from poolmon.core.catalog import ALERT_ACK

        self.telemetry.emit(ALERT_ACK, {}, {"pool": self.pool, "alert_id": alert_id, "by": by})

    # ------------------------------------------------------------------ internals
    def _current_view(self) -> AlertsView:
        view = self.engine.view()
        dropped = self.notifier.dropped if self.notifier is not None else 0
        if view.pool != self.pool or view.notifications_dropped != dropped:
            view = dataclasses.replace(view, pool=self.pool, notifications_dropped=dropped)
        return view

    def _emit_state(self, view: AlertsView) -> None:
        tel = self.telemetry
        if not tel.listening(ALERT_STATE):
            return
        firing = sum(1 for a in view.alerts if a.state == FIRING)
        pending = sum(1 for a in view.alerts if a.state == PENDING)
        tel.emit(
            ALERT_STATE,
            {"firing": firing, "pending": pending, "revision": view.revision},
            {"pool": self.pool, "view": view.to_wire()},
        )

    def _restore(self) -> None:
        if self.state is None:
            return
        loaded = self.state.load()
        problem = loaded.problem
        if loaded.state is not None:
            try:
                self.engine.restore(loaded.state, self._clock_ns())
            except (AlertError, KeyError, TypeError, ValueError) as exc:
                problem = self.state.set_aside(f"{self.state.path}: unusable state: {exc}").problem
        if problem:
            self._warn_clean_start(problem)
        self._saved_revision = self.engine.view().revision  # the file says this already

    def _warn_clean_start(self, problem: str) -> None:
        self.restore_problem = problem
        message = f"alert state not restored, starting clean: {problem}"
        log.warning("pool %s: %s", self.pool, message)
        self._error("warning", message)

    def _save(self, now_ns: int, *, force: bool) -> None:
        if self.state is None:
            return
        revision = self.engine.view().revision
        if revision == self._saved_revision:
            return  # nothing changed since the last save (or since the restore)
        if not force and now_ns - self._saved_at_ns < self._persist_every_ns:
            return
        self._saved_at_ns = now_ns
        try:
            self.state.save(self.engine.dump(), now_ns)
        except Exception as exc:  # a full disk must not stop alerting; say it once per cause
            message = f"alert state not saved to {self.state.path}: {exc}"
            if message != self._save_problem:
                self._save_problem = message
                log.warning("pool %s: %s", self.pool, message)
                self._error("warning", message, exc)
            return
        self._saved_revision = revision
        self._save_problem = ""

    def _error(self, severity: str, message: str, exc: BaseException | None = None) -> None:
        emit_error_event(
            "alerts",
            severity,
            pool=self.pool,
            error=exc,
            error_type=None if exc is not None else "AlertService",
            message=message,
            telemetry=self.telemetry,
        )

    def notifier_error(self, message: str, exc: BaseException | None) -> None:
        """The notifier's `on_error`: a channel failed or dropped (called from its thread)."""
        self._error("warning", f"alert notification: {message}", exc)
