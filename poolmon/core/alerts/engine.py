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
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from poolmon.core.alerts import kinds, persist
from poolmon.core.alerts.groups import Group, groupable, make_groups
from poolmon.core.alerts.lifecycle import NS, Active, advance, alert_of, ended_at
from poolmon.core.alerts.marks import Markable, inhibited, silenced_by
from poolmon.core.alerts.memory import MetricMemory
from poolmon.core.alerts.metrics import Inst, MetricReader
from poolmon.core.alerts.model import (
    FIRING,
    RESOLVED,
    SILENCE_LABELS,
    Ack,
    Alert,
    AlertError,
    AlertsView,
    DisabledRule,
    Matcher,
    Silence,
    sorted_alerts,
)
from poolmon.core.alerts.render import encode_id, expr, id_start
from poolmon.core.alerts.rules import Rule, RuleSet
from poolmon.core.alerts.samples import SampleMatrix

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

VIEW_HISTORY = 50
"""Resolved alerts carried in every view (the `alerts` command reads the whole history)."""


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
        shared: dict[kinds.SampleKey, SampleMatrix] = {}
        self._states = {r.name: kinds.new_state(r, shared) for r in rules.rules}
        self._groups = make_groups(rules.rules)
        self._singles = tuple(r for r in rules.rules if not groupable(r))
        self._firing: dict[str, set[Inst]] = {}
        self._resolved: list[Alert] = []
        self._history: deque[Alert] = deque(maxlen=max(1, history_limit))
        self._silences: dict[str, Silence] = {}
        self._disabled: dict[str, DisabledRule] = {}
        self._new_disabled: list[DisabledRule] = []
        self._memory = MetricMemory()
        self._exprs: dict[str, str] = {}
        self._seq: int | None = None
        self._revision = 0
        self._evaluated_at = 0
        self._view = AlertsView(
            pool=pool, rules=len(rules), resolved_retention_s=self.retention_ns / NS
        )

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
        for group in self._groups:
            changed |= self._evaluate_group(group, reader, now_ns)
        for rule in self._singles:
            if rule.name in self._disabled:
                continue
            try:
                out = kinds.evaluate(rule, reader, self._states[rule.name], self._firing_of)
                changed |= advance(rule, self._active[rule.name], out, now_ns, self)
            except Exception as exc:  # a broken rule must not stop the others
                self._disable(rule, exc, now_ns)
                changed = True
            self._note_firing(rule)
        changed |= self._prune(now_ns)
        changed |= self._mark(now_ns)
        if changed:
            self._revision += 1
        self._evaluated_at = now_ns
        return self._build_view()

    def _evaluate_group(self, group: Group, reader: MetricReader, now: int) -> bool:
        """Threshold rules of one group: one comparison, then only the rules with news."""
        changed = False
        try:
            src, cond, guard = group.evaluate(reader)
            hot = set(np.flatnonzero(np.any(cond, axis=1)).tolist())
        except Exception as exc:  # every rule of the group raised the same
            for rule in group.rules:
                if rule.name not in self._disabled:
                    self._disable(rule, exc, now)
                    changed = True
            return changed
        for j, rule in enumerate(group.rules):
            if (j not in hot and not self._active[rule.name]) or rule.name in self._disabled:
                continue
            try:
                out = group.outcome(j, src, cond[j], guard)
                changed |= advance(rule, self._active[rule.name], out, now, self)
            except Exception as exc:
                self._disable(rule, exc, now)
                changed = True
            self._note_firing(rule)
        return changed

    def _note_firing(self, rule: Rule) -> None:
        acts = self._active[rule.name]
        if acts:
            self._firing[rule.name] = {k for k, a in acts.items() if a.state == FIRING}

    def _firing_of(self, name: str) -> set[Inst]:
        return self._firing.get(name, set())

    def resolve(self, rule: Rule, a: Active, now: int) -> None:
        """Move an instance that stopped firing to the view's resolved list and the history."""
        alert = replace(self._alert(rule, a, now), state=RESOLVED, resolved_at_ns=now)
        self._resolved.append(alert)
        # The history keeps the record without the chart's last values: 120 floats were 4.1 of
        # an entry's 4.7 KB, ~47 MB a pool at the history's 10,000 (docs/ALERTS.md); the
        # view's resolved copy keeps them while it is shown (`resolved_retention_s`).
        self._history.appendleft(replace(alert, recent=()))

    def _disable(self, rule: Rule, exc: Exception, now: int) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        d = DisabledRule(rule.name, reason, now)
        self._disabled[rule.name] = d
        self._new_disabled.append(d)
        for a in self._active[rule.name].values():
            if a.state == FIRING:
                self.resolve(rule, a, now)
        self._active[rule.name] = {}

    def next_id(self, now: int) -> str:
        """A new alert id (see `poolmon.core.alerts.render.encode_id`)."""
        if self._seq is None:
            self._seq = id_start(self.pool, now)
        self._seq += 1
        return encode_id(self._seq)

    def _prune(self, now: int) -> bool:
        keep = [a for a in self._resolved if now - ended_at(a) < self.retention_ns]
        changed = len(keep) != len(self._resolved)
        self._resolved = keep
        cutoff = now - self.history_max_age_ns
        while self._history and ended_at(self._history[-1]) < cutoff:
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
        text = self._exprs.get(rule.name)
        if text is None:
            text = self._exprs[rule.name] = expr(rule)
        return alert_of(rule, a, now, text)

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
            resolved_retention_s=self.retention_ns / NS,
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
        sid = "s" + self.next_id(now_ns)[1:]
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
