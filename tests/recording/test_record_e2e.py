"""`poolmon record` on a real pool, then the recording replayed headless: the pool's counts.

Also what a user gets wrong on the command line, and a recorder killed with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from recorded_pool import REPO, Recorded, record_real_pool, run_load, start_recorder

from poolmon import Pool
from poolmon.core.protocol import PROTOCOL_VERSION
from poolmon.core.recording.format import (
    FORMAT_VERSION,
    RecordingError,
    encode_header,
    header_size_needed,
)
from poolmon.core.recording.scan import scan
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.runtime.recording.writer import DEFER_S
from poolmon.testing.clock import ManualClock


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pmr", dir="/tmp"))
    before = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = before
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def recorded(folder: Path) -> Recorded:
    return record_real_pool(folder)


def test_record_then_replay_shows_the_pools_own_counts(recorded: Recorded) -> None:
    assert recorded.returncode == 0, recorded.stderr
    assert "recording ended: interrupted (Ctrl-C)" in recorded.stderr
    assert "frames dropped by a slow disk" in recorded.stderr
    source = ReplaySource(recorded.path, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.pool.name == "recorded"
    assert source.file.header.pool == "recorded"
    assert snap.tasks_finished_total == recorded.succeeded + recorded.failed == 3040
    assert snap.tasks_failed_total == recorded.failed == 40
    assert source.file.damage is None
    assert source.status().state.startswith("REPLAY")
    refused = source.command("resize", {"size": 3})
    assert not refused.ok
    assert "cannot be steered" in refused.reason
    source.stop()


def test_the_replay_opens_on_what_the_recorder_first_saw(folder: Path) -> None:
    """A pool that ran before the recorder attached: at `0s` the replay shows its backfill.

    Before, the replay started at the recorder's first frame, before the WELCOME and the
    backfill were applied: the header had no pool name and throughput read `—`.
    """
    path = folder / "late.pmrec"
    pool = Pool(2, name="late", alerts=False)
    try:
        pool.wait_ready(30)
        run_load(pool, 400, 7)
        time.sleep(1.5)  # the pool's history closes those seconds
        proc = start_recorder("late", path)
        time.sleep(1.0 + DEFER_S)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        pool.shutdown()
    source = ReplaySource(path, clock=ManualClock())
    assert source.position_ns() == source.timeline.start_ns
    snap = source.snapshot(3600)
    assert snap.pool.name == "late"
    assert snap.tasks_finished_total == 407
    assert snap.tasks_failed_total == 7
    assert source.timeline.start_ns - source.file.first_ns < 5 * 10**9
    source.stop()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poolmon", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip


def test_bad_output_paths_are_refused_before_anything_is_written(folder: Path) -> None:
    pool = Pool(1, name="paths", alerts=False)
    try:
        missing = _cli("record", "paths", "-o", str(folder / "nope" / "x.pmrec"))
        assert missing.returncode == 2
        assert f"folder {folder / 'nope'} does not exist" in missing.stderr
        existing = folder / "taken.pmrec"
        existing.write_bytes(b"keep me")
        taken = _cli("record", "paths", "-o", str(existing), "--duration", "1s")
        assert taken.returncode == 2
        assert "already exists; pass --force" in taken.stderr
        assert existing.read_bytes() == b"keep me"
        a_dir = _cli("record", "paths", "-o", str(folder))
        assert a_dir.returncode == 2
        assert "is a folder" in a_dir.stderr
        no_pool = _cli("record", "nosuchpool", "-o", str(folder / "n.pmrec"))
        assert no_pool.returncode == 2
        assert "no pool named 'nosuchpool'" in no_pool.stderr
        assert not (folder / "n.pmrec").exists()
        forced = _cli("record", "paths", "-o", str(existing), "--duration", "1s", "--force")
        assert forced.returncode == 0, forced.stderr
        assert existing.read_bytes()[:5] == b"PMREC"
    finally:
        pool.shutdown()


def test_a_recorder_killed_with_sigkill_leaves_a_readable_file(folder: Path) -> None:
    path = folder / "killed.pmrec"
    pool = Pool(2, name="killed", alerts=False)
    try:
        pool.wait_ready(30)
        proc = start_recorder("killed", path)
        run_load(pool, 2000, 0)
        time.sleep(1.5 + DEFER_S)  # a block with tasks is written (idle CPU or not)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        pool.shutdown()
    source = ReplaySource(path, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert 0 < snap.tasks_finished_total <= 2000
    source.stop()


def test_sigterm_stops_a_background_recorder_cleanly_with_every_task(folder: Path) -> None:
    # started as a shell's background job is: SIGINT ignored, so only SIGTERM can stop it
    path = folder / "terminated.pmrec"
    pool = Pool(2, name="terminated", alerts=False)
    default = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the recorder
    try:
        pool.wait_ready(30)
        proc = start_recorder("terminated", path)
        run_load(pool, 2000, 5)
        time.sleep(1.5)  # the endpoint's last batch reaches the recorder (not DEFER_S: held)
        totals = pool.stats().totals
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        signal.signal(signal.SIGINT, default)
        pool.shutdown()
    assert proc.returncode == 0, err
    assert "recording ended: stopped by SIGTERM" in err
    source = ReplaySource(path, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.tasks_finished_total == totals.succeeded + totals.failed == 2005  # none lost
    source.stop()


def _damaged(recorded: Recorded, folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_a_truncated_recording_replays_up_to_the_cut_and_says_where(
    recorded: Recorded, folder: Path
) -> None:
    data = recorded.path.read_bytes()
    blocks = scan(data, 1).blocks
    assert len(blocks) >= 2  # a block at least every DEFER_S, and the last one at the end
    cut_block = blocks[-1]
    path = _damaged(recorded, folder, "cut.pmrec", data[: cut_block.offset + cut_block.size // 2])
    source = ReplaySource(path, clock=ManualClock())
    assert source.timeline.end_ns == blocks[-2].last_ns
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.tasks_finished_total <= 3040
    status = source.status()
    assert status.severity == "error"
    assert f"replay stopped early: stopped at byte {cut_block.offset:,}" in status.detail
    assert "the file ends inside a block" in status.detail
    source.stop()
    shown = _cli("replay", str(path), "--at", "nonsense")  # fails after opening: the message
    assert shown.returncode == 2
    assert "cannot seek to 'nonsense'" in shown.stderr


def test_a_corrupted_byte_stops_the_replay_at_its_block(recorded: Recorded, folder: Path) -> None:
    data = bytearray(recorded.path.read_bytes())
    blocks = scan(bytes(data), 1).blocks
    victim = blocks[len(blocks) // 2]
    data[victim.offset + victim.size // 2] ^= 0xFF
    path = _damaged(recorded, folder, "flipped.pmrec", bytes(data))
    source = ReplaySource(path, clock=ManualClock())
    assert len(source.file.blocks) == len(blocks) // 2
    assert source.file.damage is not None
    assert source.file.damage.offset == victim.offset
    assert "checksum" in source.file.damage.reason
    source.seek(source.timeline.end_ns)
    assert f"stopped at byte {victim.offset:,}" in source.status().detail
    source.stop()


def test_newer_versions_are_refused_with_a_clear_message(recorded: Recorded, folder: Path) -> None:
    data = recorded.path.read_bytes()
    newer_format = bytearray(data)
    struct.pack_into(">H", newer_format, 8, FORMAT_VERSION + 1)
    path = _damaged(recorded, folder, "future.pmrec", bytes(newer_format))
    with pytest.raises(RecordingError, match="newer than this poolmon reads"):
        ReplaySource(path)
    shown = _cli("replay", str(path))
    assert shown.returncode == 2
    newer = f"version {FORMAT_VERSION + 1} is newer than this poolmon reads ({FORMAT_VERSION})"
    assert newer in shown.stderr
    header = scan(data, 1).header
    size = header_size_needed(data)
    newer = encode_header(replace(header, protocol_version=PROTOCOL_VERSION + 1)) + data[size:]
    path = _damaged(recorded, folder, "future2.pmrec", newer)
    shown = _cli("attach", "--replay", str(path))
    assert shown.returncode == 2
    assert "holds protocol version 2 frames; this poolmon speaks version 1" in shown.stderr
    garbage = _damaged(recorded, folder, "text.pmrec", b"just some text\n" * 10)
    shown = _cli("replay", str(garbage))
    assert shown.returncode == 2
    assert "not a poolmon recording" in shown.stderr
