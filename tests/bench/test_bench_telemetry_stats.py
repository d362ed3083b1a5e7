"""The telemetry bench's statistics: ABBA pairing and the bootstrap interval of the median."""

from __future__ import annotations

import statistics

from poolmon.bench.telemetry import median_ci95, paired


def test_pairs_alternate_which_contender_runs_first() -> None:
    order: list[str] = []

    def off() -> float:
        order.append("off")
        return 100.0

    def on() -> float:
        order.append("on")
        return 95.0

    offs, ons, ratios = paired(off, on, 4)
    assert order == ["off", "on", "on", "off", "off", "on", "on", "off"]
    assert offs == [100.0] * 4
    assert ons == [95.0] * 4
    assert ratios == [0.95] * 4


def test_the_interval_holds_the_median_and_is_reproducible() -> None:
    values = [0.9 + 0.01 * (i % 11) for i in range(41)]
    low, high = median_ci95(values)
    assert low <= statistics.median(values) <= high
    assert (low, high) == median_ci95(values)  # seeded
    assert min(values) <= low <= high <= max(values)


def test_a_constant_sample_has_a_point_interval() -> None:
    assert median_ci95([0.97] * 9) == (0.97, 0.97)
