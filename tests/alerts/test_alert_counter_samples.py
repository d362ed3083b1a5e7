"""CounterSamples (core/alerts/memory.py): the drop counter's readings in fixed memory.

Checked against a model written the plain way (the list of `(time, value)` readings it
replaced: append, trim to one reading at or before the horizon, forget readings after a clock
that went back, read a window as newest minus the last reading at or before its start) over
random readings with clock jumps, long enough to wrap the arrays several times.
"""

from __future__ import annotations

import random

from poolmon.core.alerts.memory import CounterSamples, MetricMemory


class PlainModel:
    def __init__(self, horizon_s: int) -> None:
        self.horizon_s = horizon_s
        self.readings: list[tuple[int, float]] = []

    def add(self, now_s: int, value: float) -> None:
        self.readings = [r for r in self.readings if r[0] <= now_s]
        if self.readings and self.readings[-1][0] == now_s:
            return
        self.readings.append((now_s, value))
        while len(self.readings) > 1 and self.readings[1][0] <= now_s - self.horizon_s:
            self.readings.pop(0)

    def increase(self, now_s: int, window_s: int) -> float:
        start = self.readings[0][1]
        for t, v in self.readings:
            if t > now_s - window_s:
                break
            start = v
        return self.readings[-1][1] - start


def test_it_agrees_with_the_plain_model_through_wraps_and_clock_jumps() -> None:
    rng = random.Random(3)
    horizon = 50
    samples, model = CounterSamples(horizon), PlainModel(horizon)
    now, value = 1_000, 0.0
    for step in range(5_000):  # 100 horizons: the arrays (2 x horizon) wrap many times
        r = rng.random()
        now += -rng.randint(1, 30) if r < 0.02 else (0 if r < 0.1 else rng.randint(1, 3))
        value += rng.randint(0, 5)
        samples.drop_after(now)
        if samples.latest_s != now:
            samples.add(now, value)
        model.add(now, value)
        assert len(samples) == len(model.readings), step
        for window in (1, 5, 30, horizon, 2 * horizon):
            assert samples.increase(now, window) == model.increase(now, window), (step, window)


def test_readings_take_no_new_memory_after_the_start() -> None:
    memory = MetricMemory()
    times, values = memory.drops._t, memory.drops._v
    for now in range(10_000):  # close to three hours of one reading a second
        memory.sample_drops(now, float(now // 7))
    assert memory.drops._t is times  # the same arrays, never regrown
    assert memory.drops._v is values
    assert len(memory.drops) <= memory.drops.horizon_s + 1
    assert memory.drops.increase(9_999, 300) == float(9_999 // 7 - 9_699 // 7)
    assert times.nbytes + values.nbytes == 2 * 8 * 2 * (memory.drops.horizon_s + 2)
