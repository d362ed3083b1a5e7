"""The engine's state as plain, versioned data, and its strict inverse.

What survives a pool restart (issue #11): active alerts with their `for` progress and acks,
recently resolved ones, the history and the silences. Rule-internal samples (rate slopes,
anomaly baselines) are not kept: they warm up again, which is what their warm-up is for.
Loading checks everything before anything is used, so a corrupted file is refused whole with
the reason (the service then starts clean with a warning) and never half-restored.

Instances are re-attached to rules by name; an alert whose rule is gone, or whose labels no
longer fit the rule's split, is dropped. After an outage longer than `FOR_OUTAGE_TOLERANCE_S`
(Prometheus' `--rules.alert.for-outage-tolerance`, 1 h) a pending alert's `for` starts over.
A shorter outage does not count as pending time: a pool that was down twenty minutes must not
fire, seconds after it starts again, an alert whose condition nobody saw hold for its `for`
(seen: a utilization alert pending two minutes before a stop fired four seconds after the next
start). `restored_since` shifts the start the way Prometheus restores `for` state
(`--rules.alert.for-grace-period`, 10 min).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from poolmon.core.alerts.metrics import Inst
from poolmon.core.alerts.model import (
    FIRING,
    PENDING,
    RESOLVED,
    Alert,
    AlertError,
    Silence,
)
from poolmon.core.alerts.rules import RuleSet
from poolmon.core.errors import ProtocolError

VERSION: Final = 1
"""Bumped when the dumped shape changes; other versions are refused."""
FOR_OUTAGE_TOLERANCE_S: Final = 3600
"""A pending alert older than this outage restarts its `for` (Prometheus' default)."""
FOR_GRACE_PERIOD_S: Final = 600
"""After a restart, an alert with a longer `for` gets at least this long before it fires."""


def restored_since(since_ns: int, down_at_ns: int, now_ns: int, for_s: float) -> int:
    """The pending start to resume with, so that the outage does not count toward `for`.

    Prometheus' rule (rules/group.go, RestoreForState): the time spent pending before the
    outage counts, the outage does not; and an alert whose `for` is longer than the grace
    period gets at least the grace period after the restart before it can fire.
    """
    hold_ns = int(for_s * 1_000_000_000)
    down_ns = max(0, now_ns - down_at_ns)
    remaining_ns = hold_ns - (down_at_ns - since_ns)
    grace_ns = FOR_GRACE_PERIOD_S * 1_000_000_000
    if hold_ns <= grace_ns or remaining_ns >= grace_ns:
        return since_ns + down_ns
    if remaining_ns <= 0:
        return since_ns  # it had held long enough: firing again if still true
    return now_ns + grace_ns - hold_ns


def dump(
    *,
    pool: str,
    revision: int,
    seq: int | None,
    evaluated_at_ns: int,
    active: Iterable[Alert],
    last_true: Mapping[str, int],
    resolved: Iterable[Alert],
    history: Iterable[Alert],
    silences: Iterable[Silence],
) -> dict[str, Any]:
    """The state as a dict of plain values (msgpack/JSON-able)."""
    return {
        "version": VERSION,
        "pool": pool,
        "revision": revision,
        "seq": seq,
        "evaluated_at_ns": evaluated_at_ns,
        "active": [{"alert": a.to_wire(), "last_true_ns": last_true.get(a.id, 0)} for a in active],
        "resolved": [a.to_wire() for a in resolved],
        "history": [a.to_wire() for a in history],
        "silences": [s.to_wire() for s in silences],
    }


@dataclass(frozen=True, slots=True)
class Loaded:
    """A checked state, ready to be taken over."""

    revision: int
    seq: int | None
    evaluated_at_ns: int
    active: list[tuple[str, Inst, Alert, int]]
    resolved: list[Alert]
    history: list[Alert]
    silences: list[Silence]


def load(
    state: Mapping[str, Any], rules: RuleSet, pool: str, now_ns: int, max_age_ns: int
) -> Loaded:
    """Check and decode a dumped state for `rules` (AlertError with the reason if malformed)."""
    try:
        return _load(state, rules, pool, now_ns, max_age_ns)
    except AlertError:
        raise
    except (ProtocolError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AlertError(f"alert state is malformed: {exc}") from None


def _load(
    state: Mapping[str, Any], rules: RuleSet, pool: str, now_ns: int, max_age_ns: int
) -> Loaded:
    if not isinstance(state, Mapping):
        raise AlertError(f"alert state must be a map, got {type(state).__name__}")
    if state.get("version") != VERSION:
        raise AlertError(f"alert state version {state.get('version')!r}, expected {VERSION}")
    if state["pool"] != pool:
        raise AlertError(f"alert state is pool {state['pool']!r}'s, not {pool!r}'s")
    revision = _int(state["revision"])
    seq = None if state["seq"] is None else _int(state["seq"])
    evaluated = _int(state["evaluated_at_ns"])
    outage = now_ns - evaluated
    active = []
    for item in _list(state["active"]):
        alert = Alert.from_wire(item["alert"])
        last_true = _int(item["last_true_ns"])
        if alert.state not in (PENDING, FIRING):
            raise AlertError(f"active alert {alert.id} has state {alert.state!r}")
        rule = rules.by_name.get(alert.rule)
        if rule is None:
            continue  # its rule is gone
        labels = dict(alert.labels)
        if rule.by is not None and rule.by not in labels:
            continue  # the rule is split differently now
        if alert.state == PENDING:
            if outage > FOR_OUTAGE_TOLERANCE_S * 1_000_000_000:
                continue
            since = restored_since(alert.active_since_ns, evaluated, now_ns, rule.for_s)
            alert = replace(alert, active_since_ns=since)
        key: Inst = ((rule.by, labels[rule.by]),) if rule.by else ()
        active.append((rule.name, key, alert, last_true))
    resolved = [_resolved(a) for a in _list(state["resolved"])]
    history = [_resolved(a) for a in _list(state["history"])]
    history = [a for a in history if (a.resolved_at_ns or 0) >= now_ns - max_age_ns]
    silences = [Silence.from_wire(s) for s in _list(state["silences"])]
    return Loaded(revision, seq, evaluated, active, resolved, history, silences)


def _resolved(wire: Any) -> Alert:
    alert = Alert.from_wire(wire)
    if alert.state != RESOLVED or alert.resolved_at_ns is None:
        raise AlertError(f"history alert {alert.id} is not resolved")
    return alert


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise AlertError(f"expected an integer, got {v!r}")
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise AlertError(f"expected a list, got {type(v).__name__}")
    return list(v)
