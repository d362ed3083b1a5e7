"""The fleet frame figures are measured on real endpoints and an attached app, never made up."""

from __future__ import annotations

from poolmon.bench.fleet_frames import measure


def test_fleet_frames_are_measured() -> None:
    m = measure(seconds=2.0, pools=3, eps=500)
    assert m["frames"] >= 3  # the app refreshed and timed its frames on the pools overview
    assert m["frame_ms"] > 0
    assert m["one_open"] > 0
    assert m["frame_p95"] >= m["frame_ms"]
    assert m["wall_ms"] >= m["frame_ms"]  # a frame's wall time holds its CPU time and waits
    assert 0 < m["records"] < 3 * 500 * 2  # about 1,500 rows/s were received
