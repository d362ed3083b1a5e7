"""Silences and inhibition: which alerts are muted, and by what (they still show, marked).

Alertmanager's semantics (metrics-anchors §1.2): a silence mutes every alert matching all its
matchers while it is in force; an inhibit rule mutes a target alert while a *firing* source
alert exists with the same values of the `equal` labels (a missing label equals an empty one),
and an alert matching both sides is never muted by another alert that matches both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from poolmon.core.alerts.model import FIRING, Silence
from poolmon.core.alerts.rules import InhibitRule


@dataclass(frozen=True, slots=True)
class Markable:
    """What marking needs of an active alert: its fingerprint, labels and state."""

    fingerprint: str
    labels: Mapping[str, str]
    state: str


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[Silence], now_ns: int
) -> tuple[str, ...]:
    """Ids of the silences in force at `now_ns` that match `labels`."""
    return tuple(s.id for s in silences if s.active(now_ns) and s.matches(labels))


def inhibited(alerts: Sequence[Markable], rules: Sequence[InhibitRule]) -> dict[str, str]:
    """Fingerprint of each inhibited alert -> fingerprint of a firing alert inhibiting it."""
    out: dict[str, str] = {}
    for rule in rules:
        sources: dict[tuple[str, ...], list[Markable]] = {}
        for a in alerts:
            if a.state == FIRING and all(m.matches(a.labels) for m in rule.source_matchers):
                key = tuple(a.labels.get(label, "") for label in rule.equal)
                sources.setdefault(key, []).append(a)
        if not sources:
            continue
        for t in alerts:
            if t.fingerprint in out or not all(m.matches(t.labels) for m in rule.target_matchers):
                continue
            t_both = all(m.matches(t.labels) for m in rule.source_matchers)
            key = tuple(t.labels.get(label, "") for label in rule.equal)
            for s in sources.get(key, ()):
                if s.fingerprint == t.fingerprint:
                    continue
                if t_both and all(m.matches(s.labels) for m in rule.target_matchers):
                    continue  # both match both sides: no self-inhibition
                out[t.fingerprint] = s.fingerprint
                break
    return out
