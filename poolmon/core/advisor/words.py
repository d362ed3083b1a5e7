"""Numbers in words for findings: durations, sizes, rates and percentages, units always shown.

Findings are read as text in the app, in `poolmon advise` and in JSON, so the engine words its
own evidence once here rather than every reader formatting raw numbers differently.
"""

from __future__ import annotations

SEEN_FULL = 0.95
"""A window with data for this share of its seconds counts as whole (the current, unfinished
second and a lost second or two are not worth `(over 59 s)`)."""


def duration(ns: float | None) -> str:
    """12.3 ms, 1.50 s, 840 µs; "—" when unknown."""
    if ns is None:
        return "—"
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e3:.0f} µs"


def mib(nbytes: float | None) -> str:
    """Bytes as MiB; "—" when unknown."""
    return "—" if nbytes is None else f"{nbytes / 2**20:,.1f} MiB"


def pct(fraction: float | None) -> str:
    """A 0..1 fraction as a percentage; "—" when unknown."""
    return "—" if fraction is None else f"{100 * fraction:.0f} %"


def minutes(seconds: float) -> str:
    """Seconds as "45 s", "12 min" or "3.5 h"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def seen_span_s(covered_s: float, window_s: int) -> float:
    """The seconds a window's figures stand for: those with data, or the whole window.

    A window with data for less than `SEEN_FULL` of its seconds (a young pool, a gap) stands
    for what it has; one with data for (nearly) all of them, or none known, for the window.
    """
    return covered_s if 0 < covered_s < window_s * SEEN_FULL else window_s


def per_minute(count: float, covered_s: float, window_s: int) -> float:
    """`count` over the seconds that have data, as a rate a minute.

    A pool younger than the window has fewer seconds of data than the window: 62 failures in
    its first 30 s are 124 a minute, not 12.4 (62 over 5 minutes).
    """
    return count * 60 / seen_span_s(covered_s, window_s)


def op_span_s(covered_s: float, window_s: int) -> int:
    """The window an operation's counts cover, for its evidence line.

    An operation's row counts whole slots (1 minute wide in the 5-minute window), so it covers
    4-5 minutes where the pool-wide figures beside it cover 5 (`flaky: 503 of 2,110 failed`
    next to `ValueError 561`, both said "over 5 min"); its line says its own span.
    """
    return int(seen_span_s(covered_s, window_s))
