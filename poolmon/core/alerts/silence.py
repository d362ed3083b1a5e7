"""Silences and their matchers, with Alertmanager's semantics (docs/ALERTS.md).

A silence mutes the notifications of every alert all of its matchers select, between its start
and end; the alert itself still shows, marked. Kept apart from `poolmon.core.alerts.model` (which
re-exports both) because matching is its own small language: four operators, anchored regular
expressions, and a missing label matching as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from poolmon.core.errors import ProtocolError

MATCH_OPS: Final = ("=", "!=", "=~", "!~")
"""Matcher operators, as Alertmanager's."""

SILENCE_LABELS: Final = ("alertname", "pool", "worker", "slot", "op", "severity")
"""Labels a silence may match on (the ones every default rule sets where they apply)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One silence matcher: `label op value`, with Alertmanager's four operators.

    A label an alert does not carry matches as the empty string (Alertmanager's rule).
    Regular expressions are anchored at both ends, as in Alertmanager.
    """

    label: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in MATCH_OPS:
            raise ValueError(f"matcher operator must be one of {MATCH_OPS}, got {self.op!r}")
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.value!r}: {exc}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies this matcher."""
        got = labels.get(self.label, "")
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        hit = re.fullmatch(self.value, got) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.label}{self.op}{self.value}"

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """Parse `label=value`, `label!=value`, `label=~regex` or `label!~regex`.

        Raises:
            ValueError: With the reason, for anything else.
        """
        m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", text)
        if m is None:
            raise ValueError(
                f"matcher {text!r} is not label=value, label!=value, label=~regex or label!~regex"
            )
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return cls(m.group(1), m.group(2), value)


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes the notifications of every alert matching all `matchers` in `[starts, ends)`."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at_ns: int
    ends_at_ns: int
    created_by: str = ""
    comment: str = ""

    def active(self, now_ns: int) -> bool:
        """Whether the silence is in force at `now_ns`."""
        return self.starts_at_ns <= now_ns < self.ends_at_ns

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every matcher selects this label set."""
        return all(m.matches(labels) for m in self.matchers)

    def to_wire(self) -> dict[str, Any]:
        """Plain dict for msgpack and the state file."""
        return {
            "id": self.id,
            "matchers": [[m.label, m.op, m.value] for m in self.matchers],
            "starts_at_ns": self.starts_at_ns,
            "ends_at_ns": self.ends_at_ns,
            "created_by": self.created_by,
            "comment": self.comment,
        }

    @classmethod
    def from_wire(cls, d: Any) -> Silence:
        """Inverse of `to_wire`; ProtocolError when malformed."""
        try:
            return cls(
                str(d["id"]),
                tuple(Matcher(str(a), str(b), str(c)) for a, b, c in d["matchers"]),
                int(d["starts_at_ns"]),
                int(d["ends_at_ns"]),
                str(d.get("created_by", "")),
                str(d.get("comment", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed silence: {exc!r}") from None
