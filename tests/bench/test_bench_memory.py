"""The memory bench's slope and warm-up criterion (issue #17): a fit that starts while a bounded
part is still filling must say so, or its slope reads as a leak."""

from __future__ import annotations

from typing import Any

import pytest

from poolmon.bench.memory import app_stall, slope_per_h, warmup_state


def _sample(t_s: float, rows: int, app_rows: int, rollups: int = 60, raw: float = 16.0) -> Any:
    pool = {"rollups": rollups, "rollups_max": 60, "raw_mib": raw, "raw_max_mib": 16.0}
    return {"t_s": t_s, "pool": {**pool, "worker_rows": rows}, "app_worker_rows": app_rows}


def test_the_slope_is_a_least_squares_fit_in_mib_an_hour() -> None:
    samples = [
        (t, 100.0 + t / 3600.0 * 3.0 + (0.2 if i % 2 else -0.2))
        for i, t in enumerate(range(0, 601, 15))
    ]
    assert slope_per_h(samples) == pytest.approx(3.0, abs=1.0)
    assert slope_per_h([(0.0, 1.0), (15.0, 2.0)]) is None  # too few to fit


def test_warm_up_is_steady_only_when_history_is_full_and_worker_rows_stopped_growing() -> None:
    steady = [_sample(720 + 15 * i, 14, 14) for i in range(10)]
    assert warmup_state(steady)["steady_at_warmup"]
    filling = [_sample(120 + 60 * i, 5 + i, 5 + i) for i in range(10)]
    state = warmup_state(filling)
    assert not state["steady_at_warmup"]
    assert state["worker_rows_max_after"] == {"pool": 14, "app": 14}
    assert not warmup_state([_sample(60, 4, 4, rollups=30)] * 3)["steady_at_warmup"]
    assert not warmup_state([_sample(60, 4, 4, raw=3.0)] * 3)["steady_at_warmup"]
    assert not warmup_state([])["steady_at_warmup"]


def _app(t_s: float, frames: int | None, state: str = "live", detail: str = "") -> Any:
    return {"t_s": t_s, "app_frames": frames, "app_state": state, "app_detail": detail}


def test_an_app_that_stopped_taking_frames_is_found_with_what_it_said() -> None:
    # the one-hour run of 2026-12-06: frames frozen from minute 22.5, "disconnected" to the end
    live = [_app(720 + 15 * i, 1000 * i) for i in range(40)]
    dead = [_app(720 + 15 * (40 + i), 39_000, "disconnected", "monitor stopped") for i in range(8)]
    stall = app_stall(live + dead)
    assert stall == {"t_s": 720 + 15 * 39, "stopped": "frames", "state": "live", "detail": ""}
    assert app_stall(live) is None
    # a cut and its reconnect (a sample or two without a new frame) is not a stall
    blip = live[:10] + [_app(870, 9000)] * 3 + live[11:]
    assert app_stall(blip) is None


def test_an_app_that_stopped_drawing_while_frames_came_is_a_stall_too() -> None:
    # run 14, 2026-12-07: frames kept coming, the render objects froze from minute 62.8
    def drawn(i: int, render: dict[str, int]) -> Any:
        return {**_app(720 + 15 * i, 1000 * i), "app_render": render}

    live = [drawn(i, {"Strip": 800 + i % 7, "Segment": 5000 + 37 * i}) for i in range(30)]
    frozen = [drawn(30 + i, {"Strip": 821, "Segment": 9164}) for i in range(8)]
    stall = app_stall(live + frozen)
    assert stall is not None
    assert stall["stopped"] == "drawing"
    assert stall["t_s"] == 720 + 15 * 30
    assert app_stall(live) is None
