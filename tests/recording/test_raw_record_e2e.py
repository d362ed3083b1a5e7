"""A real pool recorded by the undecoding recorder, in process: every row stored from bytes.

`test_record_e2e` records through the command line; this test runs the `Recorder` itself so
it can check how the file was written: the BATCH frames went through the raw client
(`UndecodedBatch`, never decoded by the recorder), their columns were packed from the
received bytes, the writer counted the very rows the file holds, and the replay reaches
exactly the totals the pool reported.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from recorded_pool import run_load

from poolmon import Pool
from poolmon.core.protocol import Batch
from poolmon.core.recording.format import ENTRY_SPARSE_BATCH, decode_block
from poolmon.runtime.commands import resolve_socket
from poolmon.runtime.recording.rawclient import RawMonitorClient
from poolmon.runtime.recording.reader import RecordingFile
from poolmon.runtime.recording.recorder import Recorder
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.testing.clock import ManualClock


def test_a_recording_written_from_received_bytes_replays_to_the_pools_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = tmp_path / "raw.pmrec"
    pool = Pool(2, name="rawrec", alerts=False)
    try:
        pool.wait_ready(30)
        recorder = Recorder(resolve_socket("rawrec"), path).start()
        deadline = time.monotonic() + 10
        while recorder.link_state != "recording" and time.monotonic() < deadline:
            time.sleep(0.02)
        client = recorder._client.client
        assert isinstance(client, RawMonitorClient)
        assert not client.packed_rollups  # the file keeps rollups every version-1 reader reads
        run_load(pool, 4000, 25)
        time.sleep(1.5)  # the endpoint flushes its last batch
        totals = pool.stats().totals
    finally:
        recorder.stop()
        pool.shutdown()
    writer = recorder.writer
    assert writer is not None
    assert writer.dropped_frames == 0
    rec = RecordingFile(path)
    kinds = [e.kind for b in rec.blocks for e in decode_block(rec._map, b)]
    rows = sum(
        len(tb) for i in range(len(rec.blocks)) for _, f in rec.items(i)
        if isinstance(f, Batch) for _, tb in f.tasks
    )  # fmt: skip
    rec.close()
    assert ENTRY_SPARSE_BATCH in kinds
    assert rows == writer.tasks == totals.succeeded + totals.failed == 4025
    source = ReplaySource(path, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.tasks_finished_total == 4025
    assert snap.tasks_failed_total == totals.failed == 25
    source.stop()
