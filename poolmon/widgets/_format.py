"""Number formatting shared by every widget, so a duration reads the same everywhere.

Pure functions of plain values (no Textual, no clock): `None` always renders as an em dash,
because "no data" must never look like zero.
"""

from __future__ import annotations

import math
import signal
from datetime import UTC, datetime
from typing import Final

NO_DATA = "—"
"""What every formatter prints for `None`."""

DURATION_UNITS: Final = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"))
"""The units `duration` picks from, largest first (below 1 µs it prints ns)."""
COUNT_UNITS: Final = ((1e9, "G"), (1e6, "M"), (1e3, "k"))
"""The suffixes `count` picks from, largest first."""


def duration(ns: float | None) -> str:
    """Format nanoseconds with three significant digits and the largest fitting unit."""
    if ns is None:
        return NO_DATA
    if ns >= 60e9:
        return age(int(ns))
    for scale, unit in DURATION_UNITS:
        if ns >= scale:
            return f"{_three_digits(ns / scale)}{unit}"
    return f"{ns:.0f}ns"


def duration_at_most(ns: float | None) -> str:
    """`≤22ms`: an upper bound, rounded up (`≤1.3ms`, `≤22ms`, `≤124ms`, `≤1h01m`).

    For an age the monitor can only bound (`WorkerView.current_task_age_at_most`); rounding
    up keeps the bound true, and the short form fits where `duration` fits. A negative
    bound is 0; one that is not a number has no data.
    """
    if ns is None or not math.isfinite(ns):
        return NO_DATA
    ns = max(0.0, ns)
    if ns >= 60e9:  # `age` truncates to its last unit: round up to it first
        unit_s = 1 if ns < 3600e9 else 60 if ns < 86400e9 else 3600
        step = unit_s * 1_000_000_000
        return "≤" + age(math.ceil(ns / step) * step)
    for i, (scale, unit) in enumerate(DURATION_UNITS):
        if ns >= scale:
            value = ns / scale
            up = math.ceil(value) if value >= 10 else math.ceil(value * 10) / 10
            if up >= 1000 and i:  # 999.2ms rounds up to the next unit
                return f"≤1{DURATION_UNITS[i - 1][1]}"
            return (f"≤{up:.1f}".removesuffix(".0") if up < 10 else f"≤{up:.0f}") + unit
    up = math.ceil(ns)
    return "≤1µs" if up >= 1000 else f"≤{up}ns"


def task_age(ns: float | None, at_most: bool) -> str:
    """A running task's age: exact (`duration`), or a bound where that is all that is known.

    `at_most` is `WorkerView.current_task_age_at_most`: the worker table and a worker's
    summary both show an age this way.
    """
    return duration_at_most(ns) if at_most else duration(ns)


def exit_cause(exit_code: int | None, signum: int | None) -> str:
    """How a process ended: `SIGKILL (9)`, `signal 99`, `exit 3`, or `exit ?`."""
    if signum is not None:
        try:
            return f"{signal.Signals(signum).name} ({signum})"
        except ValueError:
            return f"signal {signum}"
    return f"exit {exit_code}" if exit_code is not None else "exit ?"


FEW_VALUES = 5
"""Below this many values a percentile is not shown: it would just be one of the values."""


def percentile(count: int, ns: float | None) -> str:
    """A latency percentile, or `n=3` when there are too few values for it to mean anything."""
    if 0 < count < FEW_VALUES:
        return f"n={count}"
    return duration(ns)


def _three_digits(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def age(ns: int | None) -> str:
    """Format a longer span compactly (`42s`, `3m07s`, `2h05m`, `3d04h`)."""
    if ns is None:
        return NO_DATA
    seconds = max(0, ns // 1_000_000_000)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def size_bytes(n: float | None) -> str:
    """Format a byte count in binary units (`512B`, `12.5MiB`)."""
    if n is None:
        return NO_DATA
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f}{unit}" if unit == "B" else f"{_three_digits(value)}{unit}"
        value /= 1024
    return f"{_three_digits(value)}TiB"


def count(n: float | None) -> str:
    """Format a count compactly (`999`, `12.3k`, `4.56M`)."""
    if n is None:
        return NO_DATA
    if abs(n) < 1000:
        return f"{n:.0f}"
    for scale, unit in COUNT_UNITS:
        if abs(n) >= scale:
            return f"{_three_digits(n / scale)}{unit}"
    return f"{n:.0f}"  # pragma: no cover - unreachable, the loop always returns


def rate(per_s: float | None) -> str:
    """Format a rate per second (`1.23k/s`)."""
    if per_s is None:
        return NO_DATA
    if per_s < 10:
        return f"{per_s:.2f}/s" if per_s else "0/s"
    return f"{count(per_s)}/s"


def percent(fraction: float | None) -> str:
    """Format a 0..1 fraction as a percentage (`73%`, `0.4%`)."""
    if fraction is None:
        return NO_DATA
    value = fraction * 100
    if 0 < value < 10:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def cpu(percent_of_core: float | None) -> str:
    """Format CPU as percent of one core (`145%` for a process using 1.45 cores)."""
    if percent_of_core is None:
        return NO_DATA
    return f"{percent_of_core:.0f}%" if percent_of_core >= 10 else f"{percent_of_core:.1f}%"


def cores(percent_of_core: float | None) -> str:
    """Format CPU as cores in use (`1.4 cores` for 138 % of one core, `0.05 cores`).

    Several processes together can use several cores; "138%" next to "of 4" reads as more
    than the whole, so the pool's total is counted in cores.
    """
    if percent_of_core is None:
        return NO_DATA
    n = percent_of_core / 100
    digits = 2 if 0 < n < 0.1 else 1
    return f"{n:.{digits}f} core" + ("" if round(n, digits) == 1 else "s")


def clock(ts_ns: int) -> str:
    """Format a wall-clock timestamp as `HH:MM:SS` in UTC.

    UTC because a monitor is often attached from another machine than the pool's, and because
    snapshot tests must not depend on the machine's time zone.
    """
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%H:%M:%S")


def span(seconds: int) -> str:
    """A span in its largest units, every part kept: `45s`, `4m`, `4m30s`, `1h`, `1h30m`.

    One format for every time label, so `-4m30s` sits beside `-4m`, never `-270s`.
    """
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return "".join(parts) or "0s"


def window(window_s: int) -> str:
    """Name a time window the way the keys do (`1m`, `15m`, `1h`)."""
    if window_s % 3600 == 0:
        return f"{window_s // 3600}h"
    if window_s % 60 == 0:
        return f"{window_s // 60}m"
    return f"{window_s}s"
