"""The fire-to-webhook benchmark runs end to end (its figures are proven by the bench, not here)."""

from __future__ import annotations

import pytest

from poolmon.bench.notify_latency import measure_fire_to_webhook


@pytest.mark.integration
def test_fire_to_webhook_measures_real_posts_from_the_engine_and_from_a_pool() -> None:
    figures = measure_fire_to_webhook(2, pool_reps=1)
    assert (figures["reps"], figures["pool_reps"]) == (2, 1)
    assert 0 < figures["fire_to_webhook_min_ms"] <= figures["fire_to_webhook_ms"]
    assert figures["fire_to_webhook_ms"] <= figures["fire_to_webhook_max_ms"]
    assert figures["task_fail_to_webhook_ms"] > 0
