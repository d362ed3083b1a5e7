"""Helpers shared by the benchmark suites: machine description, medians, round-robin runs."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any


def machine() -> dict[str, Any]:
    """Describe the machine a benchmark ran on, for docs/BENCHMARKS.md."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def median(values: Sequence[float]) -> float:
    """Median of the repetitions; the figure every table quotes."""
    return float(statistics.median(values))


def round_robin(
    contenders: dict[str, Callable[[], float]], repetitions: int
) -> dict[str, list[float]]:
    """Run every contender once per repetition, in turn, and collect each one's results.

    Interleaving means a burst of background load hits all contenders alike instead of
    skewing one of them.
    """
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repetitions):
        for name, fn in contenders.items():
            results[name].append(fn())
    return results


def print_table(result: dict[str, Any]) -> None:
    """Print a suite's figures and ratios as aligned text."""
    print(f"suite: {result.get('suite')}")
    for section in ("figures", "ratios"):
        rows = result.get(section) or {}
        if rows:
            print(f"\n{section}:")
            width = max(len(k) for k in rows)
            for key, value in rows.items():
                shown = f"{value:,.4g}" if isinstance(value, float) else f"{value}"
                print(f"  {key.ljust(width)}  {shown}")
