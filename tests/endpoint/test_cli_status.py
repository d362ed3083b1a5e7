"""`poolmon status` against a real pool whose counts the test knows independently.

The ground truth is computed here from the inputs (which tasks fail and how, how long each
sleeps, which one kills its worker), never read back from poolmon, so a status that counts
wrong, drops an error type, divides a rate by the wrong time or counts itself as a monitor
fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from poolmon.cli import main
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.status_text import format_status, per_second, span

pytestmark = pytest.mark.integration

N = 300
SLEEP_S = 0.004


def outcome(i: int) -> str:
    """What task i does, decided by its input alone: ok, ValueError or KeyError."""
    if i % 10 == 3:
        return "ValueError"
    if i % 25 == 7:
        return "KeyError"
    return "ok"


def work(i: int) -> int:
    time.sleep(SLEEP_S)
    kind = outcome(i)
    if kind == "ValueError":
        raise ValueError(i)
    if kind == "KeyError":
        raise KeyError(i)
    return i


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def read_status(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main(["status", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_status_reports_the_pools_true_counts(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from poolmon import Pool

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    expected = Counter(outcome(i) for i in range(N))
    with Pool(2, name="truth") as pool:
        started = time.monotonic()
        futures = [pool.submit(work, i) for i in range(N)]
        for f in futures:
            try:
                f.result(timeout=60)
            except (ValueError, KeyError):
                pass
        crash = pool.submit(die)
        with pytest.raises(Exception, match=r"(?i)crash|killed|signal"):
            crash.result(timeout=60)
        deadline = time.monotonic() + 30  # the replacement worker
        while pool.stats().size != 2 or len(pool.stats().workers) != 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.5)  # let the pool's history close the last seconds
        age_s = time.monotonic() - started

        status = read_status(capsys, "truth")
        window = status["window"]
        finished = N + 1  # the crashed task finished too (as crashed)
        failed = expected["ValueError"] + expected["KeyError"] + 1
        assert window["complete"] is True
        assert window["tasks_finished"] == finished
        assert window["tasks_failed"] == failed
        assert window["errors_by_type"] == {
            "ValueError": expected["ValueError"],
            "KeyError": expected["KeyError"],
            "WorkerCrashed": 1,
        }
        for key in ("tasks_finished", "tasks_failed"):
            assert isinstance(window[key], int)
        # the rate is over the time with data (less than the 60 s window, no more than the
        # pool's age), and it is exactly the count over that time
        assert 0 < window["covered_s"] <= age_s + 1
        assert window["covered_s"] < 60
        assert window["throughput_per_s"] == pytest.approx(finished / window["covered_s"], 0.01)
        lat = window["latency"]
        assert lat["count"] == finished
        assert SLEEP_S * 1e9 <= lat["p50_ns"] <= 0.5e9  # every task sleeps 4 ms
        assert lat["p50_ns"] <= lat["p99_ns"] <= lat["max_ns"]
        assert status["restarts"] == 1
        totals = status["totals"]
        assert totals["submitted"] == N + 1
        assert totals["failed"] == expected["ValueError"] + expected["KeyError"]
        assert totals["crashed"] == 1
        assert totals["succeeded"] == expected["ok"]
        assert 0 < status["uptime_s"] <= age_s + 5
        assert status["other_monitors"] == 0  # this status call is not counted

        text = format_status(status)
        assert f"throughput  {per_second(window['throughput_per_s'])} over the last" in text
        assert f"over the last {window['covered_s']:.1f} s (all the data there is" in text
        assert f"{finished} tasks finished, {failed} failed" in text
        assert f"p50 {span(lat['p50_ns'])}" in text
        assert f"p99 {span(lat['p99_ns'])}" in text
        assert f"ValueError {expected['ValueError']} · KeyError {expected['KeyError']}" in text
        assert "WorkerCrashed 1" in text
        assert "1 restarts since start" in text
        assert f"{N + 1} submitted" in text
        assert "monitors    0 others attached (not counting this status call)" in text
        assert not re.search(r"\.0 (tasks finished|submitted|succeeded|failed|crashed)", text)

        monitor = Monitor(short_dir / "poolmon" / "truth.sock", read_only=True)
        monitor.start()
        try:
            deadline = time.monotonic() + 30
            while not any(monitor.histories.values()):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert read_status(capsys, "truth")["other_monitors"] == 1
        finally:
            monitor.stop()


def test_a_young_busy_pools_window_fits_inside_its_uptime_and_its_totals(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked while tasks keep finishing, in the pool's first seconds.

    Before, the window covered more time than the pool had been up (its first second counted
    whole) and could count more tasks finished than the totals, read earlier, had submitted.
    """
    import threading

    from poolmon import Pool

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    with Pool(2, name="young") as pool:
        stop = threading.Event()

        def feed() -> None:
            while not stop.is_set():
                pool.submit(time.sleep, 0.002).result(timeout=30)

        feeder = threading.Thread(target=feed)
        feeder.start()
        try:
            time.sleep(2.5)
            status = read_status(capsys, "young")
        finally:
            stop.set()
            feeder.join(30)
    window, totals = status["window"], status["totals"]
    assert window["tasks_finished"] > 0
    assert window["covered_s"] <= status["uptime_s"]
    done = totals["succeeded"] + totals["failed"] + totals["timed_out"] + totals["crashed"]
    assert window["tasks_finished"] <= done <= totals["submitted"]


def test_a_window_with_no_history_says_no_data() -> None:
    status = {
        "name": "p",
        "pid": 1,
        "host": "h",
        "socket": "/s",
        "pool": {"size": 2, "busy": 0, "idle": 2},
        "uptime_s": 3.0,
        "restarts": 0,
        "totals": None,
        "other_monitors": 0,
        "window": {"window_s": 60, "complete": False},
    }
    text = format_status(status)
    assert "throughput  — (no data" in text
    assert "0 tasks/s" not in text


def test_a_window_without_tasks_says_no_data_not_zero() -> None:
    status = {
        "name": "p",
        "pid": 1,
        "host": "h",
        "socket": "/s",
        "pool": {"size": 2, "busy": 0, "idle": 2, "queue_depth": 0},
        "uptime_s": None,
        "restarts": None,
        "totals": None,
        "other_monitors": 0,
        "window": {
            "window_s": 60,
            "complete": True,
            "covered_s": 0.0,
            "tasks_finished": 0,
            "tasks_failed": 0,
            "tasks_timed_out": 0,
            "throughput_per_s": None,
            "error_rate": None,
            "latency": {"count": 0, "p50_ns": None, "p90_ns": None, "p99_ns": None, "max_ns": None},
            "errors_by_type": {},
        },
    }
    text = format_status(status)
    assert "throughput  — tasks/s (no task data in the last 60 s)" in text
    assert "latency     — (no task finished in the last 60 s)" in text
    assert "— restarts since start" in text  # the pool did not say: not a made-up 0
    assert "up —" in text
    assert "queue       0 waiting\n" in text  # no bound claimed when the pool did not report one


def test_units_on_every_duration() -> None:
    assert span(1_110_000) == "1.11 ms"
    assert span(120e6) == "120 ms"
    assert span(2.05e9) == "2.05 s"
    assert span(950) == "950 ns"
    assert span(None) == "—"
