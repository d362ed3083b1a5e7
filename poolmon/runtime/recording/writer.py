"""Writing a recording: a bounded queue, a writer thread, blocks flushed each second, a size cap.

Why a queue and a thread: the thread that reads the pool's socket must never wait for the
disk, or the pool's endpoint would start dropping records for this monitor (and a recorder
inside the app would stall the screen). `put` only appends to a queue bounded in bytes; when
the disk is too slow and the queue is full, frames are dropped and counted, and the count is
written into the file as a note, so a replay says where the recording has holes.

Why blocks flushed every `block_s`: each block goes to the kernel with one `os.write` as soon
as it is complete, so a recorder killed with SIGKILL (or a crashed app) leaves a file whose
blocks all read, up to the last second before the kill (the page cache keeps what was
written; `fsync` is only needed against a power cut and is done at close).

Why "while a CPU is idle": packing and compressing are nearly all of a recorder's CPU, and on
a machine whose cores the pool keeps busy they would come out of the pool's throughput. While
`IdleGate` says no CPU is idle, the writer lets the received frames wait (up to `DEFER_S` or
`DEFER_BYTES`, then it writes regardless, so nothing is dropped for it): a burst of tasks costs
the pool only the reading of the socket, and is compressed in the first idle moment. The price:
a SIGKILL during a long saturation loses up to `DEFER_S` instead of a second.

The size cap either stops the recording with a clear reason or, with `rotate`, continues in
the next part (`rec.pmrec`, `rec.part2.pmrec`, ...), each part a recording of its own.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Final

from poolmon.core.errors import PoolmonError
from poolmon.core.protocol import Batch, Frame
from poolmon.core.recording.codecs import CODEC_ZSTD, ZSTD_LEVEL
from poolmon.core.recording.entries import END, RECORDER_DROPPED, frame_entry, note_entry
from poolmon.core.recording.format import (
    Entry,
    RecordingHeader,
    encode_block,
    encode_header,
)
from poolmon.core.recording.rawbatch import UndecodedBatch, packed_batch_entry
from poolmon.runtime.recording.idle import IdleGate

BLOCK_S: Final = 1.0
"""A block is written at least this often (what a SIGKILL can lose)."""
BLOCK_RAW_BYTES: Final = 8 << 20
"""...or as soon as its entries reach this many bytes uncompressed (a quarter of the cap)."""
QUEUE_BYTES: Final = 64 << 20
"""Frames waiting for the writer thread, at most (estimated bytes); more are dropped."""
DEFER_BYTES: Final = QUEUE_BYTES // 2
"""While no CPU is idle, received frames wait for an idle moment up to this many bytes..."""
DEFER_S: Final = 2.0
"""...or this many seconds; then they are written at once (`IdleGate`, the module doc)."""
IDLE_TICK_S: Final = 0.25
"""How often the writer asks whether a CPU is idle (the answer covers this span)."""


class RecordingPathError(PoolmonError):
    """The output path cannot be written (missing folder, no permission, file exists)."""


def check_output(path: Path, force: bool) -> None:
    """Refuse a path that cannot become a recording, with what to do about it."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise RecordingPathError(f"{path} is a folder; give a file name, e.g. {path}/pool.pmrec")
    if not folder.is_dir():
        raise RecordingPathError(f"folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RecordingPathError(f"folder {folder} is not writable by this user")
    if path.exists() and not force:
        raise RecordingPathError(f"{path} already exists; pass --force to overwrite it")


def part_path(path: Path, part: int) -> Path:
    """`rec.pmrec` for part 1, `rec.part2.pmrec` for part 2, ..."""
    if part == 1:
        return path
    return path.with_name(f"{path.stem}.part{part}{path.suffix}")


def frame_cost(frame: Frame) -> int:
    """An estimate of a frame's bytes in the queue (64 per task row, 256 per event)."""
    if isinstance(frame, UndecodedBatch):
        return 128 + len(frame.body)
    if isinstance(frame, Batch):
        return 128 + sum(64 * len(b) for _, b in frame.tasks) + 256 * len(frame.events)
    return 512


class RecordingWriter:
    """Writes frames to `path` in the background; see the module doc.

    Args:
        path: The file (checked by `check_output` first).
        header: The header of part 1 (later parts get their part number).
        max_bytes: Cap per file (None: no cap).
        rotate: At the cap, continue in the next part instead of stopping.
        force: Overwrite an existing file.
        time_ns: The wall clock for notes (injectable for tests).
        on_stop: Called once (from the writer thread) with the reason the writer stopped
            by itself (size cap, disk error).
        block_s: How often a block is written (while a CPU is idle).
        idle: Tells whether a CPU is idle (`IdleGate()` when None).
    """

    def __init__(
        self,
        path: Path,
        header: RecordingHeader,
        *,
        max_bytes: int | None = None,
        rotate: bool = False,
        force: bool = False,
        time_ns: Callable[[], int] = time.time_ns,
        on_stop: Callable[[str], None] | None = None,
        block_s: float = BLOCK_S,
        idle: IdleGate | None = None,
    ) -> None:
        check_output(path, force)
        self.path = path
        """The first part's file."""
        self.current = path
        """The part being written."""
        self.header = header
        self.max_bytes = max_bytes
        self.rotate = rotate
        self.block_s = block_s
        self._block_cut = min(BLOCK_RAW_BYTES, (max_bytes or BLOCK_RAW_BYTES * 4) // 4)
        """A block is cut at this many raw bytes, so several fit under the size cap."""
        self.frames = 0
        """Frames written."""
        self.tasks = 0
        """Task rows in them."""
        self.bytes = 0
        """Bytes written, over every part."""
        self.dropped_frames = 0
        """Frames dropped because the queue was full (the disk too slow)."""
        self.stopped = ""
        """Why the writer stopped by itself, or empty."""
        self.deferred = 0
        """Ticks the writer let due frames wait because no CPU was idle (`IdleGate`)."""
        self._time_ns = time_ns
        self._idle = idle or IdleGate()
        self._on_stop = on_stop
        self._queue: deque[tuple[Frame | Entry, int]] = deque()
        self._queued = 0
        self._dropped_unwritten = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._fd = self._open(path, header, force)
        self._file_bytes = len(encode_header(header))
        self.bytes = self._file_bytes
        self._thread = threading.Thread(target=self._run, name="poolmon-recorder", daemon=True)
        self._thread.start()

    # -- the receiving side ------------------------------------------------------------------

    def put(self, frame: Frame, recv_ns: int) -> bool:
        """Queue a frame; False (and counted) if the queue is full or the writer stopped."""
        cost = frame_cost(frame)
        with self._lock:
            if self.stopped or self._closing or self._queued + cost > QUEUE_BYTES:
                self.dropped_frames += 1
                self._dropped_unwritten += 1
                return False
            self._queue.append((frame, recv_ns))
            self._queued += cost
        return True

    def note(self, name: str, recv_ns: int, **fields: object) -> None:
        """Queue a note of the recorder's own (never dropped)."""
        with self._lock:
            self._queue.append((note_entry(name, recv_ns, **fields), recv_ns))

    def close(self, reason: str = "stopped") -> None:
        """Write what is queued and an end note, fsync and close (idempotent)."""
        with self._lock:
            if self._closing:
                return
            if not self.stopped:
                self._queue.append((note_entry(END, self._time_ns(), reason=reason), 0))
            self._closing = True
        self._wake.set()
        self._thread.join(timeout=30)

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        tick_s = min(self.block_s, IDLE_TICK_S)
        due = time.monotonic() + self.block_s
        try:
            while True:
                self._wake.wait(tick_s)
                self._wake.clear()
                closing = self._closing
                busy = self._idle.busy()  # asked every tick: it speaks of this tick only
                if not closing:
                    if time.monotonic() < due:
                        continue
                    if busy and self._may_wait():
                        self.deferred += 1
                        continue
                due = time.monotonic() + self.block_s
                self._write_queued()
                if closing or self.stopped:
                    break
        except OSError as exc:
            self._stop(f"cannot write {self.current}: {exc.strerror or exc}")
        finally:
            self._finish()

    def _may_wait(self) -> bool:
        """Whether the queued frames may wait longer: neither `DEFER_BYTES` nor `DEFER_S` old."""
        with self._lock:
            if not self._queue or self._queued >= DEFER_BYTES:
                return False
            oldest_ns = self._queue[0][1]
        return self._time_ns() - oldest_ns < DEFER_S * 1e9

    def _take(self) -> list[tuple[Frame | Entry, int]]:
        with self._lock:
            items = list(self._queue)
            self._queue.clear()
            self._queued = 0
            dropped, self._dropped_unwritten = self._dropped_unwritten, 0
        if dropped:
            now = self._time_ns()
            items.append((note_entry(RECORDER_DROPPED, now, frames=dropped), now))
        return items

    def _write_queued(self) -> None:
        entries: list[Entry] = []
        raw = 0
        for item, recv_ns in self._take():
            if isinstance(item, Entry):
                entry = item
            elif isinstance(item, UndecodedBatch):  # before Batch: never decode it here
                entry, rows = packed_batch_entry(item.body, recv_ns)
                self.frames += 1
                self.tasks += rows
            else:
                entry = frame_entry(item, recv_ns)
                self.frames += 1
                if isinstance(item, Batch):
                    self.tasks += sum(len(b) for _, b in item.tasks)
            entries.append(entry)
            raw += len(entry.payload) + 13
            if raw >= self._block_cut:
                self._write_block(entries)
                entries, raw = [], 0
        if entries:
            self._write_block(entries)

    def _write_block(self, entries: list[Entry]) -> None:
        if self.stopped:
            return
        entries.sort(key=lambda e: e.recv_ns)  # notes stamped late join their place
        block = encode_block(entries, CODEC_ZSTD, ZSTD_LEVEL)
        if self.max_bytes is not None and self._file_bytes + len(block) > self.max_bytes:
            if not self.rotate:
                self._stop(f"size cap reached: {self.current} holds {self._file_bytes:,} bytes")
                return
            self._next_part()
        os.write(self._fd, block)
        self._file_bytes += len(block)
        self.bytes += len(block)

    def _next_part(self) -> None:
        os.close(self._fd)
        self.header = replace(self.header, part=self.header.part + 1)
        self.current = part_path(self.path, self.header.part)
        self._fd = self._open(self.current, self.header, True)
        self._file_bytes = len(encode_header(self.header))
        self.bytes += self._file_bytes

    def _open(self, path: Path, header: RecordingHeader, force: bool) -> int:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise RecordingPathError(f"{path} exists; pass --force to overwrite it") from None
        except OSError as exc:
            raise RecordingPathError(f"cannot create {path}: {exc.strerror or exc}") from None
        os.write(fd, encode_header(header))
        return fd

    def _stop(self, reason: str) -> None:
        with self._lock:
            self.stopped = reason
        if self._on_stop is not None:
            self._on_stop(reason)

    def _finish(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError:
            pass
        os.close(self._fd)
