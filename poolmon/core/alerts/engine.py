"""`AlertEngine`: rules evaluated once a second into alerts with Prometheus' lifecycle.

Per rule and label set (an *instance*): inactive -> `pending` when the condition turns true ->
`firing` once it has held for the rule's `for` (at once with `for = 0`) -> `resolved` when it
stops holding (after `keep_firing_for`, and, with a `resolve` bound, only once the value is
back past it). A pending instance that clears is dropped silently, as Prometheus does. A
resolved alert stays in the view for `resolved_retention_s` (Prometheus keeps 15 minutes) and
in the history (7 days, 10,000 entries by default). Each firing gets a new short `id`; the
`fingerprint` (rule + labels) stays. An ack is attached to one firing and ends with it.
Silences and inhibition mark alerts without hiding them (`poolmon.core.alerts.marks`). A rule
that raises is disabled with the reason; the others keep running.

`view().revision` goes up at every visible change: an instance appearing, firing, resolving or
leaving the view, an ack, a silence added, removed or expiring, a mark changing, a rule being
disabled. A firing alert's value changing is NOT a revision change: values move every second,
and the pool re-sends the view every 5 s anyway (catalog `poolmon.alert.state`), so monitors
see fresh values without every tick counting as a change to announce.

Pure: no IO, no clock; time comes in as `now_ns`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from poolmon.core.alerts import kinds, persist
from poolmon.core.alerts.marks import Markable, inhibited, silenced_by
from poolmon.core.alerts.metrics import Inst, MetricMemory, MetricReader
from poolmon.core.alerts.model import (
    FIRING,
    PENDING,
    RECENT_VALUES,
    RESOLVED,
    SILENCE_LABELS,
    Ack,
    Alert,
    AlertError,
    AlertsView,
    DisabledRule,
    Labels,
    Matcher,
    Silence,
    sorted_alerts,
)
from poolmon.core.alerts.render import (
    encode_id,
    expr,
    fingerprint,
    id_start,
    instance_labels,
    render_annotations,
)
from poolmon.core.alerts.rules import Rule, RuleSet

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

NS = 1_000_000_000
VIEW_HISTORY = 50
"""Resolved alerts carried in every view (the `alerts` command reads the whole history)."""


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


class AlertEngine:
    """Evaluates a `RuleSet` over an aggregator and keeps the alert state (see module doc).

    Args:
        rules: The rules (defaults, a rule file, or both merged).
        pool: The pool's name (the `pool` label).
        history_limit: Resolved alerts kept in the history at most.
        history_max_age_s: Resolved alerts older than this leave the history.
        resolved_retention_s: How long a resolved alert stays in the view.
    """

    def __init__(
        self,
        rules: RuleSet,
        *,
        pool: str,
        history_limit: int = 10_000,
        history_max_age_s: float = 7 * 86400,
        resolved_retention_s: float = 900.0,
    ) -> None:
        self._rules = rules
        self.pool = pool
        self.history_limit = history_limit
        self.history_max_age_ns = int(history_max_age_s * NS)
        self.retention_ns = int(resolved_retention_s * NS)
        self._active: dict[str, dict[Inst, Active]] = {r.name: {} for r in rules.rules}
        self._states: dict[str, kinds.RuleState] = {r.name: kinds.RuleState() for r in rules.rules}
        self._firing: dict[str, set[Inst]] = {}
        self._resolved: list[Alert] = []
        self._history: deque[Alert] = deque(maxlen=max(1, history_limit))
        self._silences: dict[str, Silence] = {}
        self._disabled: dict[str, DisabledRule] = {}
        self._new_disabled: list[DisabledRule] = []
        self._memory = MetricMemory()
        self._seq: int | None = None
        self._revision = 0
        self._evaluated_at = 0
        self._view = AlertsView(pool=pool, rules=len(rules))

    @property
    def rules(self) -> RuleSet:
        """The rules this engine evaluates."""
        return self._rules

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, agg: Aggregator, now_ns: int) -> AlertsView:
        """Evaluate every rule at `now_ns` (once a second) and return the new view."""
        reader = MetricReader(agg, now_ns, self._memory)
        changed = self._expire_silences(now_ns)
        self._firing = {}
        for rule in self._rules.rules:
            if rule.name in self._disabled:
                continue
            try:
                out = kinds.evaluate(rule, reader, self._states[rule.name], self._firing_of)
                changed |= self._advance(rule, out, now_ns)
            except Exception as exc:  # a broken rule must not stop the others
                self._disable(rule, exc, now_ns)
                changed = True
            self._firing[rule.name] = {
                k for k, a in self._active[rule.name].items() if a.state == FIRING
            }
        changed |= self._prune(now_ns)
        changed |= self._mark(now_ns)
        if changed:
            self._revision += 1
        self._evaluated_at = now_ns
        return self._build_view()

    def _firing_of(self, name: str) -> set[Inst]:
        return self._firing.get(name, set())

    def _advance(self, rule: Rule, out: kinds.Outcome, now: int) -> bool:
        acts = self._active[rule.name]
        changed = False
        for pos in np.flatnonzero(out.cond).tolist():
            key = out.keys[pos]
            if key not in acts:
                labels = instance_labels(rule, self.pool, key)
                acts[key] = Active(
                    self._next_id(now), fingerprint(rule.name, labels), labels, PENDING, now, now
                )
                changed = True
        for_ns, keep_ns = int(rule.for_s * NS), int(rule.keep_firing_for_s * NS)
        idx = out.index
        for key, a in list(acts.items()):
            i = idx.get(key)
            value = _f(out.vals[i]) if i is not None else None
            holds = bool(out.cond[i]) if i is not None else False
            if not holds and i is not None and a.state == FIRING and rule.resolve is not None:
                holds = bool(out.guard[i]) and kinds.holds_resolve(rule, value)
            a.value = value
            if i is not None:
                a.threshold = _f(out.thresholds[i])
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
                self._resolve(rule, a, now)
                changed = True
        return changed

    def _resolve(self, rule: Rule, a: Active, now: int) -> None:
        alert = replace(self._alert(rule, a, now), state=RESOLVED, resolved_at_ns=now)
        self._resolved.append(alert)
        self._history.appendleft(alert)

    def _disable(self, rule: Rule, exc: Exception, now: int) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        d = DisabledRule(rule.name, reason, now)
        self._disabled[rule.name] = d
        self._new_disabled.append(d)
        for a in self._active[rule.name].values():
            if a.state == FIRING:
                self._resolve(rule, a, now)
        self._active[rule.name] = {}

    def _next_id(self, now: int) -> str:
        if self._seq is None:
            self._seq = id_start(self.pool, now)
        self._seq += 1
        return encode_id(self._seq)

    def _prune(self, now: int) -> bool:
        keep = [a for a in self._resolved if now - _ended(a) < self.retention_ns]
        changed = len(keep) != len(self._resolved)
        self._resolved = keep
        cutoff = now - self.history_max_age_ns
        while self._history and _ended(self._history[-1]) < cutoff:
            self._history.pop()
        return changed

    def _expire_silences(self, now: int) -> bool:
        gone = [sid for sid, s in self._silences.items() if s.ends_at_ns <= now]
        for sid in gone:
            del self._silences[sid]
        return bool(gone)

    def _mark(self, now: int) -> bool:
        """Recompute every active alert's silence and inhibition marks; True if any changed."""
        actives = [a for acts in self._active.values() for a in acts.values()]
        silences = list(self._silences.values())
        inh = inhibited(
            [Markable(a.fingerprint, dict(a.labels), a.state) for a in actives],
            self._rules.inhibit,
        )
        changed = False
        for a in actives:
            s = silenced_by(dict(a.labels), silences, now) if silences else ()
            i = inh.get(a.fingerprint, "")
            if s != a.silenced_by or i != a.inhibited_by:
                a.silenced_by, a.inhibited_by = s, i
                changed = True
        return changed

    # ------------------------------------------------------------------ the view
    def _alert(self, rule: Rule, a: Active, now: int) -> Alert:
        return Alert(
            id=a.id,
            fingerprint=a.fingerprint,
            rule=rule.name,
            labels=a.labels,
            annotations=render_annotations(rule, dict(a.labels), a.value, a.threshold),
            severity=rule.severity,
            state=a.state,
            value=a.value,
            threshold=a.threshold,
            expr=expr(rule),
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

    def _build_view(self) -> AlertsView:
        now = self._evaluated_at
        by_name = self._rules.by_name
        alerts = [
            self._alert(by_name[name], a, now)
            for name, acts in self._active.items()
            for a in acts.values()
        ]
        self._view = AlertsView(
            pool=self.pool,
            revision=self._revision,
            evaluated_at_ns=now,
            alerts=sorted_alerts([*alerts, *self._resolved]),
            silences=tuple(sorted(self._silences.values(), key=lambda s: (s.ends_at_ns, s.id))),
            history=tuple(list(self._history)[:VIEW_HISTORY]),
            rules=len(self._rules),
            disabled=tuple(self._disabled.values()),
        )
        return self._view

    def view(self) -> AlertsView:
        """The view as of the latest evaluation or command."""
        return self._view

    def history(self, limit: int | None = None) -> tuple[Alert, ...]:
        """Resolved alerts, newest first, at most `limit` (and within the age bound)."""
        items = list(self._history)
        return tuple(items if limit is None else items[: max(0, limit)])

    def take_new_disabled(self) -> list[DisabledRule]:
        """Rules disabled since the last call (the service reports each as `poolmon.error`)."""
        out, self._new_disabled = self._new_disabled, []
        return out

    # ------------------------------------------------------------------ commands
    def ack(self, alert_id: str, by: str, comment: str, now_ns: int) -> Alert:
        """Acknowledge the active alert with this id (AlertError if unknown or resolved)."""
        for name, acts in self._active.items():
            for a in acts.values():
                if a.id == alert_id:
                    a.ack = Ack(by, now_ns, comment)
                    self._changed()
                    return self._alert(self._rules.by_name[name], a, self._evaluated_at)
        if any(a.id == alert_id for a in (*self._resolved, *self._history)):
            raise AlertError(f"alert {alert_id} has resolved; there is nothing to acknowledge")
        raise AlertError(f"no active alert with id {alert_id!r}")

    def add_silence(
        self,
        matchers: Sequence[Matcher],
        ends_at_ns: int,
        by: str,
        comment: str,
        now_ns: int,
        starts_at_ns: int | None = None,
    ) -> Silence:
        """Mute notifications of matching alerts until `ends_at_ns` (they still show, marked)."""
        if not matchers:
            raise AlertError("a silence needs at least one matcher (e.g. alertname=ErrorRateHigh)")
        bad = sorted({m.label for m in matchers} - set(SILENCE_LABELS))
        if bad:
            raise AlertError(
                f"a silence can match {', '.join(SILENCE_LABELS)}; not {', '.join(bad)}"
            )
        start = now_ns if starts_at_ns is None else starts_at_ns
        if ends_at_ns <= now_ns:
            raise AlertError("the silence would end in the past; give a later end")
        if ends_at_ns <= start:
            raise AlertError("the silence would end before it starts")
        sid = "s" + self._next_id(now_ns)[1:]
        silence = Silence(sid, tuple(matchers), start, ends_at_ns, by, comment)
        self._silences[sid] = silence
        self._mark(now_ns)
        self._changed()
        return silence

    def remove_silence(self, silence_id: str, now_ns: int) -> Silence:
        """End a silence now (AlertError if there is no such silence in force or scheduled)."""
        silence = self._silences.pop(silence_id, None)
        if silence is None:
            raise AlertError(f"no silence with id {silence_id!r} (it may have expired)")
        self._mark(now_ns)
        self._changed()
        return silence

    def _changed(self) -> None:
        self._revision += 1
        self._build_view()

    # ------------------------------------------------------------------ persistence
    def dump(self) -> dict[str, Any]:
        """Plain, versioned data for the state file (see `poolmon.core.alerts.persist`)."""
        return persist.dump(
            pool=self.pool,
            revision=self._revision,
            seq=self._seq,
            evaluated_at_ns=self._evaluated_at,
            active=[
                self._alert(self._rules.by_name[n], a, self._evaluated_at)
                for n, acts in self._active.items()
                for a in acts.values()
            ],
            last_true={
                a.id: a.last_true_ns for acts in self._active.values() for a in acts.values()
            },
            resolved=self._resolved,
            history=list(self._history),
            silences=list(self._silences.values()),
        )

    def restore(self, state: Mapping[str, Any], now_ns: int) -> None:
        """Take over a dumped state (AlertError on anything malformed; nothing half-restored)."""
        got = persist.load(state, self._rules, self.pool, now_ns, self.history_max_age_ns)
        self._active = {r.name: {} for r in self._rules.rules}
        for rule_name, key, alert, last_true in got.active:
            a = Active(
                alert.id,
                alert.fingerprint,
                alert.labels,
                alert.state,
                alert.active_since_ns,
                last_true,
                alert.fired_at_ns,
                alert.value,
                alert.threshold,
                alert.ack,
            )
            a.recent.extend(alert.recent)
            self._active[rule_name][key] = a
        self._resolved = [
            a for a in got.resolved if now_ns - (a.resolved_at_ns or 0) < self.retention_ns
        ]
        self._history = deque(got.history[: self.history_limit], maxlen=max(1, self.history_limit))
        self._silences = {s.id: s for s in got.silences if s.ends_at_ns > now_ns}
        self._seq = got.seq
        self._revision = got.revision + 1
        self._evaluated_at = got.evaluated_at_ns
        self._mark(now_ns)
        self._build_view()


def _ended(a: Alert) -> int:
    return a.resolved_at_ns or 0


def _f(v: float) -> float | None:
    x = float(v)
    return None if x != x else x
