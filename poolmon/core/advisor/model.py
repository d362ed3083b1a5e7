"""What the advisor says: findings, their evidence and the action each proposes.

A finding is meant to be read by an operator who attached to a struggling pool and has a
minute: a title that says what is wrong, the numbers that show it (and over which window, so
they can be checked on the other screens), how sure the advisor is, what fixing it would
change, and one concrete action: a setting change the app applies with one key (through the
same `set` / `resize` endpoint commands the tuning screen uses), a worker to recycle, or a
hint about the code when no setting can help. Everything is a frozen dataclass of plain
values with `to_wire`/`from_wire`, so `poolmon advise` can compute findings in the pool and
print or ship them as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from poolmon.core.errors import ProtocolError
from poolmon.core.snapshot import Series

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")
"""Mildest first; "info" findings are suggestions, never a problem."""

ActionKind = Literal["set", "resize", "recycle", "hint"]
"""set: `set {settings}`; resize: `resize {size}`; recycle: `recycle_worker`; hint: text only."""

CONFIDENCE_LABELS: Final = ((0.8, "high"), (0.5, "medium"), (0.0, "low"))
"""Confidence thresholds and their words (auto-tuning acts only on "high")."""


def confidence_label(confidence: float) -> str:
    """The word for a confidence in 0..1."""
    return next(label for floor, label in CONFIDENCE_LABELS if confidence >= floor)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One number behind a finding: what, its value in words, and the window it covers."""

    label: str
    value: str
    window_s: int | None = None

    def text(self) -> str:
        """`label: value (over 5 min)`."""
        over = "" if self.window_s is None else f" (over {_window_words(self.window_s)})"
        return f"{self.label}: {self.value}{over}"


@dataclass(frozen=True, slots=True)
class Action:
    """What to do about a finding.

    Attributes:
        kind: How it is applied (see `ActionKind`).
        settings: For "set": setting key -> new value; for "resize": {"size": n}; for
            "recycle": {"worker_id": n}; empty for "hint".
        text: The action in words (the hint itself for "hint").
    """

    kind: ActionKind
    settings: tuple[tuple[str, Any], ...] = ()
    text: str = ""

    @property
    def applicable(self) -> bool:
        """True when the action can be sent to the pool (not a hint)."""
        return self.kind != "hint" and bool(self.settings)

    def command(self) -> tuple[str, dict[str, Any]]:
        """The endpoint command that applies it: (name, args). ValueError for a hint."""
        values = dict(self.settings)
        if self.kind == "set":
            return "set", {"settings": values}
        if self.kind == "resize":
            return "resize", {"size": int(values["size"])}
        if self.kind == "recycle":
            return "recycle_worker", {"worker_id": int(values["worker_id"])}
        raise ValueError("a hint is not applied through the pool")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the advisor found (see module doc).

    Attributes:
        kind: Stable rule name (grow, shrink, cpu_bound, leak, ...; docs/ADVISOR.md).
        key: Unique among the findings of one run (kind plus the op or worker it is about).
        severity: info, warning or critical.
        title: One line: what is wrong and what to do.
        evidence: The numbers that triggered it.
        confidence: 0..1: how sure, given the samples behind it.
        impact: What applying the action should change.
        action: The proposed action.
        chart: A series that shows the problem (queue depth, RSS, ...), or an empty one.
        chart_title: What the chart shows, with its unit.
    """

    kind: str
    key: str
    severity: Severity
    title: str
    evidence: tuple[Evidence, ...]
    confidence: float
    impact: str
    action: Action
    chart: Series = field(default_factory=Series)
    chart_title: str = ""

    @property
    def confidence_label(self) -> str:
        """high, medium or low."""
        return confidence_label(self.confidence)

    @property
    def priority(self) -> float:
        """Sort key, larger first: severity, then confidence, then an applicable action."""
        return SEVERITIES.index(self.severity) * 10 + self.confidence * 5 + self.action.applicable

    def to_wire(self) -> dict[str, Any]:
        """Plain values for msgpack and JSON."""
        return {
            "kind": self.kind,
            "key": self.key,
            "severity": self.severity,
            "title": self.title,
            "evidence": [[e.label, e.value, e.window_s] for e in self.evidence],
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "impact": self.impact,
            "action": {
                "kind": self.action.kind,
                "settings": dict(self.action.settings),
                "text": self.action.text,
            },
            "chart": [self.chart.start_ns, self.chart.step_ns, list(self.chart.values)],
            "chart_title": self.chart_title,
        }

    @classmethod
    def from_wire(cls, w: Mapping[str, Any]) -> Finding:
        """Inverse of `to_wire`; ProtocolError on anything malformed."""
        try:
            action = w["action"]
            start, step, values = w.get("chart") or (0, 1_000_000_000, [])
            severity = w["severity"]
            kind = action["kind"]
            if severity not in SEVERITIES or kind not in ("set", "resize", "recycle", "hint"):
                raise ValueError(f"unknown severity {severity!r} or action {kind!r}")
            return cls(
                kind=str(w["kind"]),
                key=str(w["key"]),
                severity=severity,
                title=str(w["title"]),
                evidence=tuple(
                    Evidence(str(label), str(value), None if win is None else int(win))
                    for label, value, win in w["evidence"]
                ),
                confidence=float(w["confidence"]),
                impact=str(w["impact"]),
                action=Action(kind, tuple(dict(action["settings"]).items()), str(action["text"])),
                chart=Series(
                    int(start),
                    int(step),
                    tuple(None if v is None else float(v) for v in values),
                ),
                chart_title=str(w.get("chart_title", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed finding: {exc}") from None


def order(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Highest priority first; ties by kind and key so the order is stable."""
    return tuple(sorted(findings, key=lambda f: (-f.priority, f.kind, f.key)))


def _window_words(window_s: int) -> str:
    if window_s % 3600 == 0:
        return f"{window_s // 3600} h"
    if window_s % 60 == 0:
        return f"{window_s // 60} min"
    return f"{window_s} s"
