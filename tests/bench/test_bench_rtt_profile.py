"""`bench rtt`: one round trip split at the moment the task ran, with CPU and sleeps per side."""

from __future__ import annotations

import pytest

from poolmon.bench.rtt import profile

pytestmark = pytest.mark.integration


def test_profile_splits_real_round_trips() -> None:
    figures = profile(1, 50)
    assert set(figures) == {
        "rtt_p50_us",
        "submit_p50_us",
        "out_p50_us",
        "back_p50_us",
        "pool_cpu_us_per_rt",
        "worker_cpu_us_per_rt",
        "pool_sleeps_per_rt",
        "worker_sleeps_per_rt",
    }
    assert figures["rtt_p50_us"] > 0
    assert figures["out_p50_us"] > 0  # the task ran after the submit began (one clock)
    assert figures["back_p50_us"] > 0
    assert figures["worker_cpu_us_per_rt"] > 0  # the worker really ran every task
    assert figures["pool_cpu_us_per_rt"] > 0
