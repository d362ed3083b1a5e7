"""The investigate suite runs end to end on a real pool and reports true stack timings."""

from __future__ import annotations

from poolmon.bench.__main__ import SUITES
from poolmon.bench.investigate import stack_figures


def test_stack_figures_are_measured() -> None:
    assert "investigate" in SUITES
    figures, notes = stack_figures(reps=3, workers=2)
    assert figures["stack_ms_p50"] > 0
    assert figures["stack_ms_p50_inprocess"] > 0
    # py-spy is either measured or says why not: never a made-up figure
    assert ("stack_ms_p50_pyspy" in figures) != any(
        n.startswith("pyspy not measured") for n in notes
    )
