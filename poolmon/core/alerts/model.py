"""What an alert is, as every part of poolmon sees it: the engine, the pool, the wire and the app.

Semantics follow Prometheus and Alertmanager (docs/ALERTS.md): an alert *instance* is one rule
and one label set; it is `pending` while its condition holds for less than the rule's `for`,
then `firing`, then `resolved` (kept and shown for a while). A pending instance whose condition
clears is dropped and never notifies. Acknowledging is poolmon's own addition (PagerDuty's
sense): the alert stays visible, marked with who and when, and its notifications stop
repeating; an acknowledgment ends when the alert resolves, so a later firing is a new alert
with a new `id`. A silence mutes notifications of every alert its matchers select until it
expires; a silenced alert still shows, marked. An inhibited alert (muted by a firing critical
parent, e.g. pool-down over its per-worker children) shows too, marked.

Everything here is a frozen dataclass of plain values with a `to_wire`/`from_wire` pair of
plain msgpack-able lists and dicts, because an `AlertsView` travels from the pool to every
monitor as the metadata of a `poolmon.alert.state` event, and is persisted across pool restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from poolmon.core.alerts.silence import MATCH_OPS, SILENCE_LABELS, Matcher, Silence
from poolmon.core.errors import PoolmonError, ProtocolError

__all__ = [
    "FIRING",
    "MATCH_OPS",
    "PENDING",
    "RESOLVED",
    "SEVERITIES",
    "SILENCE_LABELS",
    "STATES",
    "Ack",
    "Alert",
    "AlertError",
    "AlertsView",
    "DisabledRule",
    "Labels",
    "Matcher",
    "Silence",
    "labels_of",
    "sort_key",
    "sorted_alerts",
]

SEVERITIES: Final = ("info", "warning", "critical")
"""Alert severities, mildest first."""

PENDING: Final = "pending"
FIRING: Final = "firing"
RESOLVED: Final = "resolved"
STATES: Final = (PENDING, FIRING, RESOLVED)
"""Lifecycle states an instance can be shown in (inactive instances are not kept)."""


class AlertError(PoolmonError):
    """An alert operation cannot be done (unknown id, bad matcher, ...); the message says why."""


Labels = tuple[tuple[str, str], ...]
"""A label set, sorted by label name; identifies an alert instance together with its rule."""


def labels_of(mapping: Mapping[str, object]) -> Labels:
    """A sorted, hashable label set from a mapping (values made strings)."""
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledgment: who (the monitor peer's user name), when, and why."""

    by: str
    at_ns: int
    comment: str = ""

    def to_wire(self) -> list[Any]:
        """`[by, at_ns, comment]`."""
        return [self.by, self.at_ns, self.comment]

    @classmethod
    def from_wire(cls, w: Any) -> Ack:
        """Inverse of `to_wire`; ProtocolError when malformed."""
        try:
            by, at_ns, comment = w
            return cls(str(by), int(at_ns), str(comment))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed alert ack: {exc}") from None


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert instance as of the latest evaluation.

    Attributes:
        id: This firing's identity (what `ack` names); a later firing of the same instance
            gets a new id. Short, printable, unique within a pool.
        fingerprint: The instance's identity across firings: rule name + label set.
        rule: The rule's name (also the `alertname` label).
        labels: Identifying labels, sorted: alertname, pool, severity, and op/worker where the
            rule groups by them, plus the rule's own static labels.
        annotations: Descriptive text (summary, description, runbook) with values
            interpolated; not part of the identity.
        severity: info, warning or critical.
        state: pending, firing or resolved.
        value: The rule's current value (None when the metric has no data).
        threshold: What the value is compared with (None for kinds without one).
        expr: The condition in words, e.g. `error_rate{op} over 1m > 0.05`.
        metric: The metric the rule reads (for the details chart).
        window_s: The rule's window in seconds.
        active_since_ns: When the condition was first seen true (this firing).
        fired_at_ns: When it turned firing (None while pending).
        resolved_at_ns: When it resolved (None while active).
        last_eval_ns: The evaluation this state is from.
        ack: The acknowledgment, if any (ends when the alert resolves).
        silenced_by: Ids of active silences that match it.
        inhibited_by: Fingerprint of the alert that inhibits it, or "".
        recent: The rule's value at the latest evaluations, oldest first (at most
            `RECENT_VALUES`, one per evaluation); None where there was no data.
    """

    id: str
    fingerprint: str
    rule: str
    labels: Labels
    annotations: Labels = ()
    severity: str = "warning"
    state: str = PENDING
    value: float | None = None
    threshold: float | None = None
    expr: str = ""
    metric: str = ""
    window_s: int = 0
    active_since_ns: int = 0
    fired_at_ns: int | None = None
    resolved_at_ns: int | None = None
    last_eval_ns: int = 0
    ack: Ack | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: str = ""
    recent: tuple[float | None, ...] = ()

    @property
    def label_map(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)

    @property
    def summary(self) -> str:
        """The `summary` annotation, or the rule name."""
        return dict(self.annotations).get("summary", self.rule)

    @property
    def state_since_ns(self) -> int:
        """When the current state began (0: not known).

        Resolved since it resolved, firing since it fired, pending since the condition held.
        The app's For column and the CLI's SINCE both count from here (the CLI counted a
        firing alert from when it went pending, two minutes more than the app said).
        """
        return self.resolved_at_ns or self.fired_at_ns or self.active_since_ns

    @property
    def display_state(self) -> str:
        """What a person should read: pending, firing, acked, silenced, inhibited or resolved.

        Resolved wins over everything, then silenced and inhibited (nobody is told), then
        acked (somebody is on it), then the lifecycle state.
        """
        if self.state == RESOLVED:
            return RESOLVED
        if self.silenced_by:
            return "silenced"
        if self.inhibited_by:
            return "inhibited"
        if self.ack is not None:
            return "acked"
        return self.state

    def to_wire(self) -> dict[str, Any]:
        """Plain dict for msgpack and the state file."""
        return {
            "id": self.id,
            "fp": self.fingerprint,
            "rule": self.rule,
            "labels": [list(kv) for kv in self.labels],
            "ann": [list(kv) for kv in self.annotations],
            "severity": self.severity,
            "state": self.state,
            "value": self.value,
            "threshold": self.threshold,
            "expr": self.expr,
            "metric": self.metric,
            "window_s": self.window_s,
            "since": self.active_since_ns,
            "fired": self.fired_at_ns,
            "resolved": self.resolved_at_ns,
            "eval": self.last_eval_ns,
            "ack": None if self.ack is None else self.ack.to_wire(),
            "silenced_by": list(self.silenced_by),
            "inhibited_by": self.inhibited_by,
            "recent": list(self.recent),
        }

    @classmethod
    def from_wire(cls, d: Any) -> Alert:
        """Inverse of `to_wire`; ProtocolError when malformed."""
        try:
            severity, state = str(d["severity"]), str(d["state"])
            if severity not in SEVERITIES or state not in STATES:
                raise ValueError(f"severity {severity!r} / state {state!r}")
            return cls(
                id=str(d["id"]),
                fingerprint=str(d["fp"]),
                rule=str(d["rule"]),
                labels=tuple((str(k), str(v)) for k, v in d["labels"]),
                annotations=tuple((str(k), str(v)) for k, v in d["ann"]),
                severity=severity,
                state=state,
                value=_opt_float(d["value"]),
                threshold=_opt_float(d["threshold"]),
                expr=str(d["expr"]),
                metric=str(d["metric"]),
                window_s=int(d["window_s"]),
                active_since_ns=int(d["since"]),
                fired_at_ns=_opt_int(d["fired"]),
                resolved_at_ns=_opt_int(d["resolved"]),
                last_eval_ns=int(d["eval"]),
                ack=None if d["ack"] is None else Ack.from_wire(d["ack"]),
                silenced_by=tuple(str(s) for s in d["silenced_by"]),
                inhibited_by=str(d["inhibited_by"]),
                recent=tuple(_opt_float(v) for v in d["recent"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed alert: {exc!r}") from None


RECENT_VALUES: Final = 120
"""Values kept in `Alert.recent` (two minutes at one evaluation a second)."""


@dataclass(frozen=True, slots=True)
class DisabledRule:
    """A rule switched off because it raised during evaluation (the others keep running)."""

    rule: str
    reason: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class AlertsView:
    """A pool's whole alert state at one evaluation: what monitors show and commands act on.

    Attributes:
        pool: Pool name.
        revision: Increases at every change (a new state, ack, silence); a monitor keeps the
            view with the highest revision it has seen from this pool instance.
        evaluated_at_ns: The evaluation this view is from (0: never evaluated).
        alerts: Active instances (pending and firing) and recently resolved ones, most severe
            and oldest first.
        silences: Silences in force or scheduled, soonest to end first.
        history: Ended alerts (resolved), newest first, bounded; the full history is kept by
            the pool and read with the `alerts` command.
        rules: Number of rules loaded.
        disabled: Rules disabled at run time, with why.
        notifications_dropped: Notifications dropped by full or failing channels since start.
        resolved_retention_s: How long a resolved alert stays among `alerts` with its recent
            values (the history keeps it without them), so a screen can say so truly.
    """

    pool: str = ""
    revision: int = 0
    evaluated_at_ns: int = 0
    alerts: tuple[Alert, ...] = ()
    silences: tuple[Silence, ...] = ()
    history: tuple[Alert, ...] = ()
    rules: int = 0
    disabled: tuple[DisabledRule, ...] = ()
    notifications_dropped: int = 0
    resolved_retention_s: float = 900.0

    def counts(self) -> dict[str, int]:
        """How many alerts are in each display state (for the header badge)."""
        out: dict[str, int] = {}
        for a in self.alerts:
            key = a.display_state
            out[key] = out.get(key, 0) + 1
        return out

    def by_id(self, alert_id: str) -> Alert | None:
        """The active or historic alert with this id, or None."""
        for a in (*self.alerts, *self.history):
            if a.id == alert_id:
                return a
        return None

    def to_wire(self) -> dict[str, Any]:
        """Plain dict for msgpack: the `view` metadata of `poolmon.alert.state`."""
        return {
            "pool": self.pool,
            "revision": self.revision,
            "evaluated_at_ns": self.evaluated_at_ns,
            "alerts": [a.to_wire() for a in self.alerts],
            "silences": [s.to_wire() for s in self.silences],
            "history": [a.to_wire() for a in self.history],
            "rules": self.rules,
            "disabled": [[d.rule, d.reason, d.at_ns] for d in self.disabled],
            "notifications_dropped": self.notifications_dropped,
            "resolved_retention_s": self.resolved_retention_s,
        }

    @classmethod
    def from_wire(cls, d: Any) -> AlertsView:
        """Inverse of `to_wire`; ProtocolError when malformed."""
        if not isinstance(d, Mapping):
            raise ProtocolError(f"an alerts view must be a map, got {type(d).__name__}")
        try:
            return cls(
                pool=str(d["pool"]),
                revision=int(d["revision"]),
                evaluated_at_ns=int(d["evaluated_at_ns"]),
                alerts=tuple(Alert.from_wire(a) for a in d["alerts"]),
                silences=tuple(Silence.from_wire(s) for s in d["silences"]),
                history=tuple(Alert.from_wire(a) for a in d["history"]),
                rules=int(d["rules"]),
                disabled=tuple(DisabledRule(str(r), str(w), int(t)) for r, w, t in d["disabled"]),
                notifications_dropped=int(d.get("notifications_dropped", 0)),
                resolved_retention_s=float(d.get("resolved_retention_s", 900.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed alerts view: {exc!r}") from None


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def sort_key(alert: Alert) -> tuple[int, int, int]:
    """Most severe first, then firing before pending before resolved, then oldest first."""
    sev = -SEVERITIES.index(alert.severity) if alert.severity in SEVERITIES else 0
    return (sev, STATES.index(alert.state), alert.active_since_ns)


def sorted_alerts(alerts: Sequence[Alert]) -> tuple[Alert, ...]:
    """`alerts` in display order (see `sort_key`)."""
    return tuple(sorted(alerts, key=sort_key))
