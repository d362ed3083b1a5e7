"""One frame a monitor cannot take costs that frame, never the monitor (`frame_guard`).

A peer on a real Unix socket, speaking the protocol through poolmon's codec, sends a WELCOME,
a ROLLUPS frame whose rollup fails validation, then good frames. Before `frame_guard` the
monitor's thread ended at the bad frame and the app froze on a "retrying" line that was no
longer true; now the frame is skipped, counted and shown, and the good frames after it count.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from poolmon.core.events import Event
from poolmon.core.protocol import Batch, Heartbeat, HistoryEnd, Rollups, Welcome, encode
from poolmon.runtime.monitor import Monitor

pytestmark = pytest.mark.integration


def _peer(path: Path, ready: threading.Event, done: threading.Event) -> None:
    """Serve one monitor: WELCOME, a malformed rollup, one event, HISTORY_END, heartbeats."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    ready.set()
    conn, _ = listener.accept()
    conn.recv(65536)  # HELLO (and maybe SUBSCRIBE: the monitor sends both at once)
    now = time.time_ns()
    spawn = Event("poolmon.worker.spawn", now, {}, {"pool": "peer", "worker_id": 7, "pid": 4242})
    frames = [
        Welcome(pool="peer", pid=4242, host="h", started_at_ns=now - 10**9, next_seq=1),
        Rollups(({"v": 1, "s": now - 2 * 10**9},), until_s=now // 10**9),  # no counts at all
        Batch(0, 1, events=((0, spawn),)),
        HistoryEnd(live_seq=1),
    ]
    conn.sendall(b"".join(encode(f) for f in frames))
    while not done.wait(0.2):
        try:
            conn.sendall(encode(Heartbeat(time.time_ns(), next_seq=1)))
        except OSError:
            break
    conn.close()
    listener.close()


def test_a_malformed_rollup_is_skipped_and_the_monitor_goes_on(short_dir: Path) -> None:
    path = short_dir / "peer.sock"
    ready, done = threading.Event(), threading.Event()
    peer = threading.Thread(target=_peer, args=(path, ready, done), daemon=True)
    peer.start()
    assert ready.wait(5)
    monitor = Monitor(path)
    try:
        monitor.start()
        deadline = time.monotonic() + 10
        while monitor.intake.frames_skipped == 0 or monitor.status().state != "live":
            assert time.monotonic() < deadline, (monitor.status(), monitor.intake.last_skip)
            time.sleep(0.05)
        seen = monitor.frames_seen
        time.sleep(0.6)  # heartbeats keep arriving: the thread is alive and reading
        assert monitor.frames_seen > seen
        assert monitor.intake.frames_skipped == 1
        assert monitor.intake.last_skip.startswith("Rollups: ProtocolError: malformed rollup")
        status = monitor.status()
        assert status.state == "live"
        assert "skipped an unreadable Rollups frame" in status.detail
        assert 7 in {w.worker_id for w in monitor.snapshot(60).workers}  # the event after it
    finally:
        done.set()
        monitor.stop()
        peer.join(5)
