"""Durations and values as people write and read them in rules, annotations and the CLI.

Rule files say `window = "5m"` and `for = "1h30m"`; a silence lasts `--for 15m`; an annotation
says "p99 is 240 ms (threshold 200 ms)" rather than "0.24 (0.2)". One parser and one set of
formatters keep all of those consistent. Durations accept Prometheus' units: ms, s, m, h, d
and w, combined largest first ("1h30m"), and a bare number of seconds.
"""

from __future__ import annotations

import math
import re
from typing import Final

DURATION_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
"""Duration suffixes and their length in seconds (Prometheus' set)."""

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_ORDER = ("w", "d", "h", "m", "s", "ms")


def parse_duration(text: str | float) -> float:
    """Seconds in a duration such as "500ms", "30s", "5m", "1h30m", "1d", or a bare number.

    Raises:
        ValueError: With what was wrong, for anything else (e.g. "5x", "m5", "", "-1s",
            or units out of order such as "30m1h").
    """
    if isinstance(text, bool):
        raise ValueError(f"a duration must be a string like '5m', got {text!r}")
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            raise ValueError(f"a duration must be a finite number of seconds >= 0, got {text!r}")
        return float(text)
    s = text.strip()
    if not s:
        raise ValueError("an empty duration; write e.g. '30s', '5m' or '1h30m'")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    pos, total, last_rank = 0, 0.0, -1
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        rank = _ORDER.index(m.group(2))
        if rank <= last_rank:
            raise ValueError(
                f"duration {text!r}: units must go from largest to smallest, each once "
                "(e.g. '1h30m')"
            )
        last_rank = rank
        total += float(m.group(1)) * DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(
            f"bad duration {text!r}: use a number and a unit (ms, s, m, h, d, w), "
            "e.g. '500ms', '30s', '5m', '1h30m', '1d'"
        )
    return total


def format_duration(seconds: float) -> str:
    """A short duration: "45s", "5m", "1h30m", "2d", "500ms" (exact inverse for whole units)."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    rest = round(seconds)
    if rest == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = int(DURATION_UNITS[unit])
        n, rest = divmod(rest, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


UNITS: Final = ("ratio", "seconds", "per_second", "count", "bytes", "percent", "tasks")
"""Units a metric can have (what `format_value` knows how to print)."""


def _num(v: float) -> str:
    """A number with three significant digits, no exponent and no trailing zeros."""
    if abs(v) >= 1000:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def format_value(value: float | None, unit: str) -> str:
    """A value as a person reads it: "5.2 %", "240 ms", "38.0 MiB", "412/s"; "\u2014" for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2014"
    if unit == "ratio":
        return f"{_num(value * 100)} %"
    if unit == "percent":
        return f"{_num(value)} %"
    if unit == "seconds":
        a = abs(value)
        if a == 0:
            return "0 s"
        if a < 1e-3:
            return f"{_num(value * 1e6)} \u00b5s"
        if a < 1:
            return f"{_num(value * 1e3)} ms"
        return f"{_num(value)} s"
    if unit == "bytes":
        a = abs(value)
        for scale, name in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if a >= scale:
                return f"{_num(value / scale)} {name}"
        return f"{_num(value)} B"
    if unit == "per_second":
        return f"{_num(value)}/s"
    if value == int(value):
        return str(int(value))
    return _num(value)


def format_rate(value: float | None, unit: str, per_s: float, relative: bool) -> str:
    """A rate of change: "1.2 MiB/min", "+12 %/h" (relative), "—" for None."""
    if value is None:
        return "\u2014"
    per = format_duration(per_s)
    per = {"1m": "min", "1h": "h", "1s": "s", "1d": "day"}.get(per, per)
    if relative:
        return f"{_num(value * 100)} %/{per}"
    return f"{format_value(value, unit)}/{per}"
