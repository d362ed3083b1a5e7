"""Seeking gives the numbers a straight play gives, by any path: back, forward, to the end.

The recording is built with the real codec from a seeded stream (a crash at 41 s, latency
spikes, a leaking worker, a 10 s link drop at 100 s), so every figure the app shows has data;
the replay runs under a manual viewer clock, so "playing" is exact arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from poolmon.runtime.recording.replay import ReplaySource
from poolmon.testing.clock import ManualClock
from poolmon.testing.recordings import NS, START_NS, synthesize
from poolmon.testing.stream_generator import StreamGenerator, StreamSpec


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "seek.pmrec"
    return synthesize(path, 300, gap=(100, 10))


def _look(source: ReplaySource, window_s: int = 300) -> str:
    """Everything the overview and a drill-down show, as text (repr of the frozen views)."""
    snap = source.snapshot(window_s)
    worker = source.worker(3, 60)
    status = source.status()  # its state names the speed, which differs between the paths
    return repr((snap, worker, status.detail, status.dropped))


def _played_to(recording: Path, target_s: float, speed: int = 10) -> tuple[str, int]:
    """Play from the start at `speed`, drawing 4 frames a second, until `target_s` in."""
    clock = ManualClock()
    source = ReplaySource(recording, clock=clock, checkpoint_s=60)
    source.timeline.set_speed(speed, clock.monotonic_ns())
    source.toggle_play()
    target = source.timeline.start_ns + round(target_s * NS)
    while source.position_ns() + speed * NS // 4 <= target:
        clock.advance(0.25)
        source.snapshot(60)  # the app's refresh: applies frames as play goes
    source.toggle_play()
    source.seek(target)  # the last fraction of a tick
    look = _look(source)
    source.stop()
    return look, target


@pytest.mark.parametrize("target_s", [37.3, 105.0, 250.1])
def test_seek_back_from_the_end_equals_a_straight_play(recording: Path, target_s: float) -> None:
    played, target = _played_to(recording, target_s)
    source = ReplaySource(recording, clock=ManualClock(), checkpoint_s=60)
    source.seek(source.timeline.end_ns)  # passes every checkpoint
    source.snapshot(60)
    source.seek(target)  # back: restores a checkpoint (or starts over) and plays on
    assert _look(source) == played
    source.stop()


def test_seek_forward_then_back_and_forth(recording: Path) -> None:
    played, target = _played_to(recording, 190.0)
    source = ReplaySource(recording, clock=ManualClock(), checkpoint_s=60)
    for hop in (250, 20, 130, 299, 61, 190):
        source.seek(source.timeline.start_ns + hop * NS)
        source.snapshot(60)
    source.seek(target)
    assert _look(source) == played
    source.stop()


def test_the_replay_shows_the_stream_counts(recording: Path) -> None:
    """Every task the stream held is counted once; the 10 lost seconds are a counted gap."""
    gen = StreamGenerator(StreamSpec(), START_NS)
    kept = failed = 0
    for t, (_, _, batch) in enumerate(gen.seconds(300)):
        if not 100 <= t < 110:
            kept += len(batch)
            failed += sum(1 for s in batch.status if s != 0)
    source = ReplaySource(recording, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.tasks_finished_total == kept
    assert snap.tasks_failed_total == failed
    assert source.feed.history_lost > 0
    assert source.status().dropped == source.feed.history_lost
    assert any(g for g in snap.gaps)
    source.stop()
