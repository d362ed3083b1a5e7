"""WaitChoice (poolmon/runtime/pool/waitchoice.py): both ways measured, the faster used, the
other still tried, and one outlier cannot decide alone."""

from __future__ import annotations

from poolmon.runtime.pool.waitchoice import CLIP, EXPLORE_EVERY, WEIGHT, WaitChoice


def picks(choice: WaitChoice, n: int) -> list[str]:
    return [choice.pick() for _ in range(n)]


def test_each_way_is_tried_until_measured_then_the_faster_with_one_exploration_in_n() -> None:
    choice = WaitChoice()
    assert choice.pick() == "poll"
    assert choice.pick() == "poll"  # not measured yet: asked again
    choice.note("poll", 40_000)
    assert choice.pick() == "recv"
    choice.note("recv", 25_000)
    made = picks(choice, 10 * EXPLORE_EVERY)
    assert made.count("poll") == 10  # exactly one in EXPLORE_EVERY explores
    assert all(way == "recv" for i, way in enumerate(made) if (i + 4) % EXPLORE_EVERY)


def test_the_choice_follows_a_change_measured_through_the_explorations() -> None:
    choice = WaitChoice()
    choice.note("poll", 30_000)
    choice.note("recv", 20_000)
    for _ in range(200):  # recv gets slow: only the waits that use it say so
        way = choice.pick()
        choice.note(way, 50_000 if way == "recv" else 30_000)
    assert choice.mean_ns["recv"] > choice.mean_ns["poll"]
    assert picks(choice, EXPLORE_EVERY - 1).count("poll") >= EXPLORE_EVERY - 2


def test_one_outlier_moves_the_mean_by_at_most_its_clipped_weight() -> None:
    choice = WaitChoice()
    choice.note("recv", 20_000)
    choice.note("recv", 5_000_000)  # a preempted round trip
    assert choice.mean_ns["recv"] == 20_000 + (20_000 * CLIP - 20_000) * WEIGHT
