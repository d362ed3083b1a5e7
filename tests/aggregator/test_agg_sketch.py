"""The sketch's percentiles stay within 1 % of exact ones, on every kind of data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.sketch import (
    ALPHA,
    MIN_NS,
    N_BUCKETS,
    QUANTILES,
    LogSketch,
    bucket_edges,
    bucket_of,
    bucket_value,
    buckets_of,
)

rng = np.random.default_rng(20260101)
DATASETS = {
    "lognormal": rng.lognormal(np.log(5e6), 1.2, 200_000),
    "bimodal": np.concatenate([rng.normal(2e5, 2e4, 150_000), rng.normal(8e7, 5e6, 50_000)]).clip(
        1_000
    ),
    "pareto": (rng.pareto(1.1, 200_000) + 1) * 1e5,
    "constant": np.full(50_000, 12_345_678.0),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_quantiles_within_one_percent_of_exact(name: str) -> None:
    values = DATASETS[name].astype(np.int64)
    sketch = LogSketch()
    sketch.add_many(values)
    got = sketch.quantiles(QUANTILES)
    exact = np.percentile(values, [q * 100 for q in QUANTILES], method="lower")
    for q, g, e in zip(QUANTILES, got, exact, strict=True):
        assert g is not None
        assert abs(g - e) <= ALPHA * e, f"{name} q={q}: {g} vs exact {e}"
    assert sketch.min == values.min()
    assert sketch.max == values.max()
    assert sketch.count == len(values)


def test_constant_data_is_exact() -> None:
    sketch = LogSketch()
    sketch.add_many(np.full(1000, 777_777, dtype=np.int64))
    assert sketch.quantiles() == [777_777.0] * len(QUANTILES)


def test_merge_equals_recording_the_union() -> None:
    a, b, union = LogSketch(), LogSketch(), LogSketch()
    x = DATASETS["lognormal"][:1000].astype(np.int64)
    y = DATASETS["pareto"][:1000].astype(np.int64)
    a.add_many(x)
    b.add_many(y)
    union.add_many(np.concatenate([x, y]))
    a.merge(b)
    assert np.array_equal(a.counts, union.counts)
    assert a.quantiles() == union.quantiles()
    assert a.total == pytest.approx(union.total)


def test_empty_sketch_has_no_quantiles() -> None:
    assert LogSketch().quantiles() == [None] * len(QUANTILES)


def test_small_zero_and_huge_values_are_clamped_into_range() -> None:
    b = buckets_of(np.array([-5, 0, 1, MIN_NS, 10**18], dtype=np.int64))
    assert b.tolist() == [0, 0, 0, 0, N_BUCKETS - 1]


def test_edges_bracket_the_representative() -> None:
    edges = bucket_edges()
    assert len(edges) == N_BUCKETS + 1
    for b in (1, 10, 500, N_BUCKETS - 1):
        assert edges[b] < bucket_value(b) <= edges[b + 1]
        assert (bucket_value(b) - edges[b]) / edges[b] <= ALPHA + 1e-12
        assert (edges[b + 1] - bucket_value(b)) / edges[b + 1] <= ALPHA + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=MIN_NS + 1, max_value=10**13))
def test_scalar_and_vector_bucketing_agree_and_bound_the_error(value: int) -> None:
    b = bucket_of(value)
    assert abs(b - int(buckets_of(np.array([value], dtype=np.int64))[0])) <= 1  # float rounding
    assert abs(bucket_value(b) - value) <= ALPHA * value * 1.0001
