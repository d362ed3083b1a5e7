"""The writer's size cap: stop with the reason, or rotate into parts that each replay."""

from __future__ import annotations

import time
from array import array
from pathlib import Path

import numpy as np

from poolmon.core.events import TaskBatch
from poolmon.core.protocol import Batch, Welcome
from poolmon.core.recording.format import RecordingHeader
from poolmon.runtime.recording.reader import RecordingFile
from poolmon.runtime.recording.writer import RecordingWriter, part_path

T0 = 1_767_225_600_000_000_000
HEADER = RecordingHeader(1, "capped", 1, "h", T0, T0)


def _noise(seq: int, rows: int = 2000) -> Batch:
    """A batch whose columns are random: about 64 bytes a row even compressed."""
    rng = np.random.default_rng(seq)
    cols = [array("q", rng.integers(0, 2**62, rows).tobytes()) for _ in range(8)]
    cols[2] = array("q", bytes(8 * rows))  # op 0
    cols[7] = array("q", bytes(8 * rows))  # no error
    return Batch(seq, seq + 1, tasks=((seq, TaskBatch(("op",), ("",), *cols)),))


def _feed(writer: RecordingWriter, batches: int) -> None:
    writer.put(Welcome(pool="capped", pid=1, started_at_ns=T0), T0)
    for i in range(batches):
        writer.put(_noise(i), T0 + (i + 1) * 10**8)
        time.sleep(0.02)


def test_the_cap_stops_the_recording_and_says_why(tmp_path: Path) -> None:
    reasons: list[str] = []
    path = tmp_path / "capped.pmrec"
    writer = RecordingWriter(path, HEADER, max_bytes=400_000, on_stop=reasons.append, block_s=0.05)
    _feed(writer, 12)
    writer.close()
    assert writer.stopped.startswith(f"size cap reached: {path} holds")
    assert reasons == [writer.stopped]
    assert path.stat().st_size <= 400_000
    rec = RecordingFile(path)  # what was written before the cap replays
    assert rec.damage is None
    assert len(rec.blocks) >= 1
    rec.close()


def test_rotation_continues_in_parts_that_each_replay(tmp_path: Path) -> None:
    path = tmp_path / "rot.pmrec"
    writer = RecordingWriter(path, HEADER, max_bytes=400_000, rotate=True, block_s=0.05)
    _feed(writer, 12)
    writer.close()
    assert not writer.stopped
    assert writer.header.part >= 2
    rows = 0
    for part in range(1, writer.header.part + 1):
        file = part_path(path, part)
        assert file.stat().st_size <= 400_000
        rec = RecordingFile(file)
        assert rec.header.part == part
        rows += sum(
            len(b) for i in range(len(rec.blocks)) for _, f in rec.items(i)
            if isinstance(f, Batch) for _, b in f.tasks
        )  # fmt: skip
        rec.close()
    assert rows == 12 * 2000
    assert writer.tasks == 12 * 2000
