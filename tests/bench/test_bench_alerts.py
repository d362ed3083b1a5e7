"""The alerts bench's real-pool webhook measurement runs end to end and says what it measured."""

from __future__ import annotations

import pytest

from poolmon.bench.alerts_pool import measure_pool_fire_to_webhook

pytestmark = pytest.mark.integration


def test_fire_to_webhook_in_a_real_pool() -> None:
    got = measure_pool_fire_to_webhook(1)
    assert got["reps"] == 1
    assert 0 < got["fire_to_webhook_ms"] <= got["task_failure_to_webhook_ms"]
    # task figures reach the pool's insight when their second closes, 0.5 s after it ends
    assert got["task_failure_to_webhook_ms"] > 500
