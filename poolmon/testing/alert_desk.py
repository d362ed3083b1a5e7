"""`AlertDesk`: an in-process stand-in for the pool's alert commands, for app tests.

The app sends `ack_alert`, `silence` and `unsilence` through its source and then shows what
the pool reports, both in the reply and in the next `poolmon.alert.state`. `AlertDesk` is a
`FeedSource` responder that carries those commands out on an `AlertsView` the way the pool's
alert service does (an ack marks the alert; a silence marks every alert its matchers select;
removing it unmarks them; each change bumps the revision) and feeds the new view back through
the source as the pool would, so a test sees the whole loop: key, command, reply, new state.
It refuses what the pool refuses (an unknown id, a pending alert, a bad matcher) with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from poolmon.core.alerts.model import FIRING, Ack, AlertsView, Matcher, Silence
from poolmon.runtime.source import CommandResult
from poolmon.testing.alert_samples import NS, alert_state_event
from poolmon.testing.feed_source import FeedSource


class AlertDesk:
    """Answers alert commands on `view` and feeds each new view into `source`.

    Args:
        source: The feed the app reads; the desk becomes its responder.
        view: The pool's alert state to start from (fed at once).
        user: The name an ack or silence is recorded under (the peer's user name).
    """

    def __init__(self, source: FeedSource, view: AlertsView, *, user: str = "tester") -> None:
        self.source = source
        self.view = view
        self.user = user
        self._next_silence = 1 + len(view.silences)
        self._handlers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "ack_alert": self._ack,
            "silence": self._silence,
            "unsilence": self._unsilence,
        }
        source._responder = self
        self.publish(view)

    def publish(self, view: AlertsView) -> None:
        """Make `view` the pool's state and feed it to the monitor."""
        self.view = view
        self.source.feed([alert_state_event(view, self.source.clock.time_ns())])

    def __call__(self, name: str, args: Mapping[str, Any]) -> CommandResult:
        """Carry out one command; a refusal carries the pool's reason."""
        handler = self._handlers.get(name)
        if handler is None:
            return CommandResult(False, reason=f"unknown command {name!r}")
        try:
            return CommandResult(True, handler(args))
        except (KeyError, TypeError, ValueError) as exc:
            return CommandResult(False, reason=str(exc).strip("'\""))

    def _changed(self, **fields: Any) -> None:
        self.publish(replace(self.view, revision=self.view.revision + 1, **fields))

    def _ack(self, args: Mapping[str, Any]) -> dict[str, Any]:
        alert_id = str(args["alert_id"])
        alert = next((a for a in self.view.alerts if a.id == alert_id), None)
        if alert is None:
            raise ValueError(f"no active alert {alert_id}")
        if alert.state != FIRING:
            raise ValueError(f"alert {alert_id} is {alert.state}, only a firing alert is acked")
        ack = Ack(self.user, self.source.clock.time_ns(), str(args.get("comment", "")))
        alerts = tuple(replace(a, ack=ack) if a.id == alert_id else a for a in self.view.alerts)
        self._changed(alerts=alerts)
        return {"alert_id": alert_id, "by": self.user}

    def _silence(self, args: Mapping[str, Any]) -> dict[str, Any]:
        matchers = tuple(Matcher(str(a), str(b), str(c)) for a, b, c in args["matchers"])
        if not matchers:
            raise ValueError("a silence needs at least one matcher")
        duration_s = float(args["duration_s"])
        if duration_s <= 0:
            raise ValueError("a silence must last more than 0 s")
        now = self.source.clock.time_ns()
        silence = Silence(
            f"s-{self._next_silence}",
            matchers,
            now,
            now + int(duration_s * NS),
            self.user,
            str(args.get("comment", "")),
        )
        self._next_silence += 1
        alerts = tuple(
            replace(a, silenced_by=(*a.silenced_by, silence.id))
            if silence.matches(a.label_map)
            else a
            for a in self.view.alerts
        )
        self._changed(alerts=alerts, silences=(*self.view.silences, silence))
        return {"silence_id": silence.id, "ends_at_ns": silence.ends_at_ns}

    def _unsilence(self, args: Mapping[str, Any]) -> dict[str, Any]:
        silence_id = str(args["silence_id"])
        if all(s.id != silence_id for s in self.view.silences):
            raise ValueError(f"no silence {silence_id}")
        alerts = tuple(
            replace(a, silenced_by=tuple(s for s in a.silenced_by if s != silence_id))
            for a in self.view.alerts
        )
        silences = tuple(s for s in self.view.silences if s.id != silence_id)
        self._changed(alerts=alerts, silences=silences)
        return {"silence_id": silence_id}
