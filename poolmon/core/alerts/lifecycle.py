"""One alert instance's life: pending, firing, resolved, as Prometheus defines it.

`advance()` applies one evaluation's outcome to a rule's active instances: a condition newly
true starts a pending instance; one that held for the rule's `for` turns firing; a pending one
whose condition clears is dropped silently; a firing one whose condition has been false for
`keep_firing_for` (and, with a `resolve` bound, whose value is back past it) resolves.
`Active` is the mutable instance; `alert_of()` freezes it into the `Alert` the view shows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from poolmon.core.alerts.kinds import Outcome, holds_resolve
from poolmon.core.alerts.metrics import Inst
from poolmon.core.alerts.model import FIRING, PENDING, RECENT_VALUES, Ack, Alert, Labels
from poolmon.core.alerts.render import fingerprint, instance_labels, render_annotations, show
from poolmon.core.alerts.rules import Rule

NS = 1_000_000_000


class Owner(Protocol):
    """What `advance` needs of the engine: the pool name, new ids, and where resolved go."""

    pool: str

    def next_id(self, now: int) -> str:
        """A new alert id."""
        ...

    def resolve(self, rule: Rule, a: Active, now: int) -> None:
        """Record a resolved instance."""
        ...


@dataclass(slots=True)
class Active:
    """A pending or firing instance (mutable; frozen into an `Alert` for the view)."""

    id: str
    fingerprint: str
    labels: Labels
    state: str
    active_since_ns: int
    last_true_ns: int
    fired_at_ns: int | None = None
    value: float | None = None
    threshold: float | None = None
    ack: Ack | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: str = ""
    recent: deque[float | None] = field(default_factory=lambda: deque(maxlen=RECENT_VALUES))
    shown: tuple[str, str] = ("", "")
    """Value and threshold as last formatted into `annotations` (re-rendered when they change)."""
    annotations: Labels = ()


def advance(rule: Rule, acts: dict[Inst, Active], out: Outcome, now: int, owner: Owner) -> bool:
    """One evaluation's effect on a rule's instances (module doc); True if anything changed."""
    if not acts and not out.cond.any():
        return False  # the common case: a quiet rule
    changed = False
    for pos in np.flatnonzero(out.cond).tolist():
        key = out.keys[pos]
        if key not in acts:
            labels = instance_labels(rule, owner.pool, key)
            acts[key] = Active(
                owner.next_id(now), fingerprint(rule.name, labels), labels, PENDING, now, now
            )
            changed = True
    for_ns, keep_ns = int(rule.for_s * NS), int(rule.keep_firing_for_s * NS)
    idx = out.index
    for key, a in list(acts.items()):
        if a.last_true_ns > now:  # the wall clock went back: "since" cannot be in the future
            a.last_true_ns = now
            a.active_since_ns = min(a.active_since_ns, now)
        i = idx.get(key)
        value = _f(out.vals[i]) if i is not None else None
        holds = bool(out.cond[i]) if i is not None else False
        if not holds and i is not None and a.state == FIRING and rule.resolve is not None:
            holds = out.guard_at(i) and holds_resolve(rule, value)
        a.value = value
        if i is not None:
            a.threshold = out.threshold(i)
        a.recent.append(value)
        if holds:
            a.last_true_ns = now
            if a.state == PENDING and now - a.active_since_ns >= for_ns:
                a.state, a.fired_at_ns = FIRING, now
                changed = True
        elif a.state == PENDING:
            del acts[key]
            changed = True
        elif now - a.last_true_ns >= keep_ns:
            del acts[key]
            owner.resolve(rule, a, now)
            changed = True
    return changed


def alert_of(rule: Rule, a: Active, now: int, expr_text: str) -> Alert:
    """The frozen `Alert` of an instance (annotations re-rendered when the shown value changes)."""
    shown = (show(rule, a.value), show(rule, a.threshold))
    if shown != a.shown or not a.annotations:
        a.annotations = render_annotations(rule, dict(a.labels), a.value, a.threshold)
        a.shown = shown
    return Alert(
        id=a.id,
        fingerprint=a.fingerprint,
        rule=rule.name,
        labels=a.labels,
        annotations=a.annotations,
        severity=rule.severity,
        state=a.state,
        value=a.value,
        threshold=a.threshold,
        expr=expr_text,
        metric=rule.metric,
        window_s=rule.window_s,
        active_since_ns=a.active_since_ns,
        fired_at_ns=a.fired_at_ns,
        last_eval_ns=now,
        ack=a.ack,
        silenced_by=a.silenced_by,
        inhibited_by=a.inhibited_by,
        recent=tuple(a.recent),
    )


def ended_at(a: Alert) -> int:
    """When a resolved alert resolved (0 if it has not)."""
    return a.resolved_at_ns or 0


def _f(v: float) -> float | None:
    x = float(v)
    return None if x != x else x
