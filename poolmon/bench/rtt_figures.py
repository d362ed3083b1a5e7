"""The round-trip figures and ratios the RTT benches report, from the trips they timed.

Why apart from `placement`: that module times round trips where it is asked to; this one
turns repetitions into the figures (`..._{placement}_us`, `..._crossed`, per wait and the
faster wait's) and the ratios that compare like with like (a pool and a floor in the same
placement), so `bench pool` and `bench rtt` name and compute them one way.
"""

from __future__ import annotations

import math

from poolmon.bench.placement import FIGURE_NAME, PLACEMENTS, Trips


def floor_figures(runs: dict[str, dict[str, list[Trips]]]) -> dict[str, float]:
    """The floor in every placement: `rtt_floor_{same_cpu,cross_cpu,free}_us` and `_crossed`.

    `runs` maps each wait (`WAITS`) to its runs by placement; each figure is the faster
    wait's, and `rtt_floor_{placement}_{wait}_us` give both. `rtt_floor_us`, the figure the
    goal is stated against, is the same-CPU floor.
    """
    out = best_of_waits("rtt_floor", runs, "_us")
    out["rtt_floor_us"] = out["rtt_floor_same_cpu_us"]
    return out


def best_of_waits(
    prefix: str, runs: dict[str, dict[str, list[Trips]]], p50: str = "_p50_us"
) -> dict[str, float]:
    """Figures of trips measured with each wait, and the faster wait's without its name.

    For each wait: `{prefix}_{placement}_{wait}{p50}` and `..._{wait}_crossed`; then, in each
    placement, `{prefix}_{placement}{p50}` and `..._crossed` of the faster wait (by median).
    """
    out: dict[str, float] = {}
    for wait, by_placement in runs.items():
        out.update(trip_figures(prefix, by_placement, p50, wait))
    for placement in {p for by_placement in runs.values() for p in by_placement}:
        stem = f"{prefix}_{FIGURE_NAME[placement]}"
        waits = [w for w in runs if f"{stem}_{w}{p50}" in out]
        fastest = min(waits, key=lambda w: _nan_last(out[f"{stem}_{w}{p50}"]))
        out[stem + p50] = out[f"{stem}_{fastest}{p50}"]
        out[stem + "_crossed"] = out[f"{stem}_{fastest}_crossed"]
    return out


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def trip_figures(
    prefix: str, runs: dict[str, list[Trips]], p50: str = "_p50_us", wait: str = ""
) -> dict[str, float]:
    """`{prefix}_{placement}{p50}` and `{prefix}_{placement}_crossed`: medians over repetitions.

    With `wait`, its name follows the placement's (`..._{placement}_{wait}{p50}`).
    """
    out: dict[str, float] = {}
    for placement, trips in runs.items():
        name = f"{prefix}_{FIGURE_NAME[placement]}" + (f"_{wait}" if wait else "")
        out[name + p50] = _median([t.p50_us for t in trips])
        out[name + "_crossed"] = _median([t.crossed for t in trips])
    return out


def floor_ratios(prefix: str, figures: dict[str, float], ratio_prefix: str) -> dict[str, float]:
    """Pool against floor, each placement against the same placement, never mixed.

    The pool's figures are `{prefix}_{placement}_p50_us`; the ratios are named
    `{ratio_prefix}_p50_vs_socketpair_floor` (both on one CPU: the issue's goal, <= 1.5),
    `{ratio_prefix}_p50_vs_cross_cpu_floor` (both ends on different CPUs) and
    `{ratio_prefix}_p50_free_vs_free_floor` (both left to the kernel: see `_crossed`).
    """
    same, apart, free = (f"{prefix}_{FIGURE_NAME[p]}_p50_us" for p in PLACEMENTS)
    name = ratio_prefix + "_p50_"
    return {
        name + "vs_socketpair_floor": figures[same] / figures["rtt_floor_same_cpu_us"],
        name + "vs_cross_cpu_floor": figures[apart] / figures["rtt_floor_cross_cpu_us"],
        name + "free_vs_free_floor": figures[free] / figures["rtt_floor_free_us"],
    }


def minimal_ratios(prefix: str, figures: dict[str, float], ratio_prefix: str) -> dict[str, float]:
    """A pool against the minimal CPython executor (bench.minimal_executor), like with like.

    `{ratio_prefix}_p50_vs_minimal_python_{same_cpu,cross_cpu,free}`: poolmon's own share of
    the distance to the floor, where `rtt_minimal_python_p50_vs_socketpair_floor` (and the
    other placements) is CPython's.
    """
    out = {}
    for placement in PLACEMENTS:
        where = FIGURE_NAME[placement]
        pool = figures[f"{prefix}_{where}_p50_us"]
        out[f"{ratio_prefix}_p50_vs_minimal_python_{where}"] = (
            pool / figures[f"rtt_minimal_python_{where}_p50_us"]
        )
    return out


def _median(values: list[float]) -> float:
    known = sorted(v for v in values if not math.isnan(v))
    if not known:
        return math.nan
    mid = len(known) // 2
    return known[mid] if len(known) % 2 else (known[mid - 1] + known[mid]) / 2
