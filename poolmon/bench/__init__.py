"""Benchmarks: `python -m poolmon.bench SUITE --json`, each against its named peer in one run.

Every suite module defines `run(args) -> dict` returning `{"suite", "machine", "figures",
"ratios", ...}` and `add_arguments(parser)`. Figures are medians over repetitions, run
round-robin so background noise hits every contender alike. Results go into docs/BENCHMARKS.md.
"""
