"""The writer compresses while a CPU is idle and lets frames wait (bounded) while none is.

`IdleGate` is fed CPU times by hand; the writer gets a gate that always says "busy", so it
must hold the frames until they are `DEFER_S` old (then write them anyway: nothing is lost
for it), and close must write whatever waits.
"""

from __future__ import annotations

import time
from collections import namedtuple
from pathlib import Path

from poolmon.core.protocol import Heartbeat, Welcome
from poolmon.core.recording.format import RecordingError, RecordingHeader
from poolmon.runtime.recording.idle import IdleGate
from poolmon.runtime.recording.reader import RecordingFile
from poolmon.runtime.recording.writer import DEFER_S, RecordingWriter

Times = namedtuple("Times", "idle iowait")
HEADER = RecordingHeader(1, "idle", 1, "h", 0, 0)


def test_the_gate_says_busy_when_less_than_a_core_was_idle_since_it_was_last_asked() -> None:
    now = [0.0]
    idle = [0.0]
    gate = IdleGate(1.0, cpu_times=lambda: Times(idle[0], 0.0), clock=lambda: now[0])
    assert not gate.busy()  # nothing to compare with yet
    now[0], idle[0] = 1.0, 0.4  # 0.4 of a core idle for a second
    assert gate.busy()
    now[0], idle[0] = 1.5, 1.4  # two cores idle for half a second
    assert not gate.busy()


def test_a_gate_that_cannot_read_cpu_times_never_holds_the_writer() -> None:
    def broken() -> Times:
        raise OSError("no /proc")

    gate = IdleGate(cpu_times=broken)
    assert not gate.busy()
    assert not gate.busy()


class _Busy(IdleGate):
    def busy(self) -> bool:
        return True


def _blocks(path: Path) -> int:
    try:
        rec = RecordingFile(path)
    except RecordingError as exc:  # only the header so far
        if "holds no complete block yet" not in str(exc):
            raise
        return 0
    try:
        return len(rec.blocks)
    finally:
        rec.close()


def test_while_no_cpu_is_idle_frames_wait_at_most_defer_s(tmp_path: Path) -> None:
    path = tmp_path / "busy.pmrec"
    writer = RecordingWriter(path, HEADER, block_s=0.05, idle=_Busy())
    start = time.time_ns()
    writer.put(Welcome(pool="idle", pid=1), start)
    writer.put(Heartbeat(start), start)
    time.sleep(DEFER_S / 4)
    assert _blocks(path) == 0  # held: the CPU is busy and the frames are young
    assert writer.deferred > 0
    deadline = time.monotonic() + DEFER_S + 5
    while _blocks(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _blocks(path) >= 1  # written once they were DEFER_S old, busy or not
    assert time.time_ns() - start >= DEFER_S * 1e9
    writer.close()
    assert writer.frames == 2


def test_close_writes_what_waits_at_once(tmp_path: Path) -> None:
    path = tmp_path / "closed.pmrec"
    writer = RecordingWriter(path, HEADER, block_s=0.05, idle=_Busy())
    writer.put(Welcome(pool="idle", pid=1), time.time_ns())
    t0 = time.monotonic()
    writer.close()
    assert time.monotonic() - t0 < DEFER_S
    assert _blocks(path) >= 1
    assert writer.frames == 1
