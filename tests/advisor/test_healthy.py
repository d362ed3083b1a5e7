"""A healthy pool gives no finding above "info" over an hour, checked once a minute."""

from __future__ import annotations

from poolmon.core.advisor import advise, gather
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource
from poolmon.testing.stream_generator import StreamGenerator, StreamSpec

SETTINGS = {"size": 8, "task_timeout_s": None, "recycle_above_rss_mib": None}


def test_one_hour_of_a_healthy_pool_gives_nothing_above_info() -> None:
    clock = ManualClock()
    source = FeedSource(clock)
    spec = StreamSpec(tasks_per_s=120, leaking_worker=-1, crash_at_s=-1, seed=11)
    gen = StreamGenerator(spec, clock.time_ns())
    source.attach(gen.pool_info())
    source.play(gen, 60)
    seen: set[str] = set()
    for _ in range(59):
        source.play_more(60)
        for f in advise(gather(source.engine, 8, SETTINGS)):  # type: ignore[arg-type]
            seen.add(f"{f.severity}:{f.key}")
            assert f.severity == "info", f
    assert gen.second == 3600
    assert all(s.startswith("info:") for s in seen)
