"""A monitor that stops reading: the pool never waits, others get everything, losses counted."""

from __future__ import annotations

import socket
import threading
import time

from endpoint_fakes import tasks

from poolmon.core.protocol import Batch, Heartbeat, Hello, HistoryEnd, Subscribe, encode
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.telemetry import Telemetry


def test_stalled_monitor_loses_records_others_do_not(make_server, telemetry: Telemetry) -> None:  # type: ignore[no-untyped-def]
    server = make_server(out_buffer_bytes=1024 * 1024, heartbeat_interval_s=0.05)
    stalled = MonitorClient(server.path, history=False)
    stalled.connect()
    stalled._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # type: ignore[union-attr]
    good = MonitorClient(server.path, history=False)
    good.connect()
    assert isinstance(good.recv(2), HistoryEnd)
    batches, rows = 400, 200
    received: list[int] = []
    done = threading.Event()

    def read_good() -> None:  # a live UI reads continuously in its own thread
        while len(received) < batches * rows and not done.is_set():
            frame = good.recv(0.1)
            if isinstance(frame, Batch):
                received.extend(t for _, b in frame.tasks for t in b.task_id)

    reader = threading.Thread(target=read_good)
    reader.start()
    for i in range(batches):
        telemetry.emit_tasks(tasks(rows, start=i * rows), {})
        time.sleep(0.0005)  # a fast pool (~400k tasks/s), not an instantaneous 5 MB burst
        # Keep the healthy monitor within reach, however busy the machine: the claim under
        # test is that the stalled one does not hold it (or the pool) back, not raw speed.
        lag_deadline = time.monotonic() + 10
        while i * rows - len(received) > 20 * rows and time.monotonic() < lag_deadline:
            time.sleep(0.001)
    reader.join(20)
    done.set()
    assert received == list(range(batches * rows))
    assert good.lost_records == 0

    internals = server.internals()
    assert internals["events_dropped"] > 0
    assert internals["monitors"] == 2

    # The stalled monitor wakes up: the next batch it gets starts after a hole, and the
    # server's heartbeat carries the exact count of rows it never got.
    # The stalled monitor wakes up and reads. Once its queue has room again, a new batch
    # reaches it after a hole (a sequence gap), and the server's heartbeat carries the exact
    # count of rows it never got.
    # Markers are sent until one gets through; the books must then balance exactly: every row
    # either reached the monitor or is counted in a later heartbeat as dropped for it.
    seen: list[int] = []
    markers = 0
    last_hb: Heartbeat | None = None
    deadline = time.monotonic() + 20
    while True:
        assert time.monotonic() < deadline, (len(seen), markers, last_hb)
        frame = stalled.recv(0.2)
        if isinstance(frame, Batch):
            seen += [t for _, b in frame.tasks for t in b.task_id]
        elif isinstance(frame, Heartbeat):
            last_hb = frame
        got_marker = bool(seen) and seen[-1] >= 10**6
        if not got_marker and (frame is None or isinstance(frame, Heartbeat)):
            telemetry.emit_tasks(tasks(1, start=10**6 + markers), {})
            markers += 1
        if (
            got_marker
            and last_hb is not None
            and len(seen) + last_hb.dropped_tasks == batches * rows + markers
        ):
            break
    assert last_hb.dropped_tasks > 0
    assert stalled.lost_records > 0
    assert seen == sorted(seen)
    stalled.close()
    good.close()


def test_raw_peer_that_never_reads_does_not_block_close(make_server, telemetry: Telemetry) -> None:  # type: ignore[no-untyped-def]
    server = make_server(out_buffer_bytes=32 * 1024)
    sock = socket.socket(socket.AF_UNIX)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(server.path))
    sock.sendall(encode(Hello()) + encode(Subscribe()))
    for i in range(200):
        telemetry.emit_tasks(tasks(500, start=i * 500), {})
    server.close()
    assert not server._thread.is_alive()  # close() never waits on the peer
    assert not server.path.exists()
    sock.close()
