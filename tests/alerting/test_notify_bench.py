"""The fire-to-webhook benchmark runs end to end (its figure is proven by the bench, not here)."""

from __future__ import annotations

from poolmon.bench.notify_latency import measure_fire_to_webhook


def test_fire_to_webhook_measures_a_real_post() -> None:
    figures = measure_fire_to_webhook(2)
    assert figures["reps"] == 2
    assert 0 < figures["fire_to_webhook_min_ms"] <= figures["fire_to_webhook_ms"]
    assert figures["fire_to_webhook_ms"] <= figures["fire_to_webhook_max_ms"]
