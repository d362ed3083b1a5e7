"""WaitChoice (poolmon/runtime/pool/waitchoice.py): every way measured, the fastest of those
possible used, the others still tried, and its running medians ignore how long an outlier was."""

from __future__ import annotations

import random

from poolmon.runtime.pool.waitchoice import BLOCKING, CALLER, EXPLORE_EVERY, STEP, WaitChoice


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
    assert choice.median_ns["recv"] > choice.median_ns["poll"]
    assert picks(choice, EXPLORE_EVERY - 1).count("poll") >= EXPLORE_EVERY - 2


def test_one_outlier_moves_a_median_one_step_however_long_it_was() -> None:
    choice = WaitChoice()
    choice.note("recv", 20_000)
    choice.note("recv", 5_000_000)  # a preempted round trip
    assert choice.median_ns["recv"] == 20_000 * (1 + STEP)


def test_the_running_median_settles_near_the_true_median_of_a_skewed_stream() -> None:
    rng = random.Random(7)
    samples = [int(rng.lognormvariate(10, 0.4)) for _ in range(4000)]  # a long right tail
    choice = WaitChoice()
    for x in samples:
        choice.note("poll", x)
    true_median = sorted(samples)[len(samples) // 2]
    mean = sum(samples) / len(samples)
    # 200 seeds: within 4 % at the median seed, 17 % at the 99th percentile
    assert abs(choice.median_ns["poll"] / true_median - 1) < 0.2
    assert mean > true_median * 1.05  # the mean would have been another figure


def test_a_callers_three_ways_each_measured_then_the_fastest_and_the_others_explored_in_turn() -> (
    None
):
    choice = WaitChoice(CALLER)
    for way, ns in (("poll", 40_000), ("recv", 30_000), ("spin", 20_000)):
        assert choice.pick() == way  # unmeasured ways first, in order
        choice.note(way, ns)
    made = picks(choice, 20 * EXPLORE_EVERY)
    assert made.count("poll") == 10
    assert made.count("recv") == 10
    assert made.count("spin") == 20 * EXPLORE_EVERY - 20


def test_a_wait_that_cannot_spin_picks_among_the_blocking_ways_only() -> None:
    choice = WaitChoice(CALLER)
    choice.note("poll", 40_000)
    choice.note("recv", 30_000)
    choice.note("spin", 10_000)  # fastest, but not possible for these waits (a longer task)
    made = [choice.pick(BLOCKING) for _ in range(10 * EXPLORE_EVERY)]
    assert "spin" not in made
    assert made.count("poll") == 10  # the exploration stays among the possible ways
    assert choice.fastest(BLOCKING) == "recv"
    assert choice.fastest() == "spin"


def test_fastest_of_unmeasured_ways_is_the_first() -> None:
    choice = WaitChoice(CALLER)
    assert choice.fastest() == "poll"
    assert choice.fastest(("recv", "spin")) == "recv"
    choice.note("spin", 50_000)
    assert choice.fastest(("recv", "spin")) == "spin"  # measured beats unmeasured
