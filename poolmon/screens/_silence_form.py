"""The silence dialog's rules, without the dialog: durations, matchers, and the prefill.

Pure functions, so what the dialog accepts is tested without an app: a duration is one or
more `<number><unit>` parts, largest unit first (`15m`, `1h30m`, `2d`, as Alertmanager and
`poolmon silence --for` write them); a matcher is `label op value` with Alertmanager's four
operators (`Matcher.parse`) on a label a silence may match (`SILENCE_LABELS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from poolmon.core.alerts.model import SILENCE_LABELS, Alert, Matcher

DURATION_CHOICES: Final = ("15m", "1h", "4h", "1d")
"""The picker's presets; anything else is typed."""

DEFAULT_DURATION: Final = "1h"
"""The duration the dialog opens with."""

MAX_DURATION_S: Final = 90 * 86400
"""Longest silence accepted: beyond a quarter a typo (`90d` for `90m`) is likelier than intent."""

_UNITS: Final = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(text: str) -> float:
    """Seconds in `15m`, `1h30m`, `2d`... (see module doc).

    Raises:
        ValueError: Saying what a valid duration looks like.
    """
    s = text.strip().lower()
    pos, total, last = 0, 0.0, -1
    order = list(_UNITS)
    for m in _PART.finditer(s):
        rank = order.index(m.group(2))
        if m.start() != pos or rank <= last:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos, last = m.end(), rank
    if not s or pos != len(s):
        raise ValueError(f"{text.strip() or 'empty'}: write a duration like 15m, 90m, 1h30m or 2d")
    if total <= 0:
        raise ValueError("a silence must last longer than 0s")
    if total > MAX_DURATION_S:
        raise ValueError("at most 90d; remove the silence and set a new one to go longer")
    return total


def parse_matcher(text: str) -> Matcher:
    """One matcher, on a label silences may use.

    Raises:
        ValueError: With the reason (syntax, operator, regex, or an unknown label).
    """
    matcher = Matcher.parse(text)
    if matcher.label not in SILENCE_LABELS:
        raise ValueError(f"label {matcher.label!r}: silences match {', '.join(SILENCE_LABELS)}")
    return matcher


def prefill(alert: Alert | None) -> list[str]:
    """Matchers that select this alert's instance: its name, pool, and op, worker or slot."""
    if alert is None:
        return []
    labels = alert.label_map
    keys = ("alertname", "pool", "op", "worker", "slot")
    return [f"{k}={labels[k]}" for k in keys if labels.get(k)]


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """What the dialog sends: `silence {matchers, duration_s, comment}`."""

    matchers: tuple[Matcher, ...]
    duration_s: float
    comment: str = ""

    def to_args(self) -> dict[str, object]:
        """The command's arguments, as the endpoint takes them."""
        return {
            "matchers": [[m.label, m.op, m.value] for m in self.matchers],
            "duration_s": self.duration_s,
            "comment": self.comment,
        }


def build_request(
    duration: str, matchers: Sequence[str], comment: str
) -> tuple[SilenceRequest | None, list[str]]:
    """The request, or the reasons it cannot be sent (blank matcher lines are ignored)."""
    errors: list[str] = []
    parsed: list[Matcher] = []
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        errors.append(str(exc))
        seconds = 0.0
    for text in matchers:
        if not text.strip():
            continue
        try:
            parsed.append(parse_matcher(text))
        except ValueError as exc:
            errors.append(str(exc))
    if not parsed and not errors:
        errors.append("add at least one matcher; an empty silence would mute every alert")
    if errors:
        return None, errors
    return SilenceRequest(tuple(parsed), seconds, comment.strip()), []
