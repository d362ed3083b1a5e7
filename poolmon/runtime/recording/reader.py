"""Opening a recording: map the file, list its blocks, decode blocks on demand.

Why mmap and a scan on open: the block headers are the seek index, so listing an hour's
blocks is a hop from header to header (and a CRC over the bytes, at memory speed); a block is
decompressed only when the replay reaches it, and the last few stay decoded for stepping
back and forth. Damage found on open (or later, in a block whose frames do not decode) ends
the readable part there, and the replay says where.
"""

from __future__ import annotations

import mmap
import os
from collections import OrderedDict
from pathlib import Path
from typing import Final

from poolmon.core.protocol import PROTOCOL_VERSION, Frame
from poolmon.core.recording.entries import Note, decode_entry
from poolmon.core.recording.format import RecordingError, RecordingHeader, decode_block
from poolmon.core.recording.scan import Damage, Scan, scan

CACHED_BLOCKS: Final = 8
"""Decoded blocks kept in memory."""

Item = tuple[int, Frame | Note]
"""A decoded entry: its receive time and the frame (or note)."""


class RecordingFile:
    """A recording opened for replay.

    Args:
        path: The file.

    Raises:
        RecordingError: Not a recording, a newer format or protocol version, a damaged
            header, or no readable block at all.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    raise RecordingError(f"{self.path} is empty: not a poolmon recording")
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise RecordingError(f"no recording at {self.path}") from None
        except IsADirectoryError:
            raise RecordingError(f"{self.path} is a folder, not a recording") from None
        except PermissionError:
            raise RecordingError(f"{self.path} is not readable by this user") from None
        view = memoryview(self._map)
        try:
            self.scan: Scan = scan(view, PROTOCOL_VERSION)
        except RecordingError as exc:
            view.release()
            self.close()
            raise RecordingError(f"{self.path}: {exc}") from None
        view.release()
        self.blocks = list(self.scan.blocks)
        """Readable blocks (shortened if a block turns out not to decode)."""
        self.damage: Damage | None = self.scan.damage
        """Where the readable part ends early, if it does."""
        if not self.blocks:
            why = f" ({self.damage.reason})" if self.damage else ""
            self.close()
            raise RecordingError(f"{self.path} holds no complete block yet{why}")
        self._cache: OrderedDict[int, list[Item]] = OrderedDict()
        try:
            self.items(0)
        except IndexError:
            why = self.damage.reason if self.damage else "unknown"
            self.close()
            raise RecordingError(f"{self.path}: its first block does not decode ({why})") from None

    @property
    def header(self) -> RecordingHeader:
        """The file's header."""
        return self.scan.header

    @property
    def first_ns(self) -> int:
        """Receive time of the first entry."""
        return self.blocks[0].first_ns

    @property
    def last_ns(self) -> int:
        """Receive time of the last readable entry."""
        return self.blocks[-1].last_ns

    def items(self, index: int) -> list[Item]:
        """The decoded entries of block `index`; a block that does not decode becomes damage.

        Raises:
            IndexError: `index` is past the readable blocks (including after damage found).
        """
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        info = self.blocks[index]
        try:
            with memoryview(self._map) as view:
                entries = decode_block(view, info)
            items = [(e.recv_ns, decode_entry(e)) for e in entries]
        except RecordingError as exc:
            before = self.blocks[index - 1].last_ns if index else None
            self.damage = Damage(info.offset, before, str(exc))
            del self.blocks[index:]
            raise IndexError(index) from None
        self._cache[index] = items
        if len(self._cache) > CACHED_BLOCKS:
            self._cache.popitem(last=False)
        return items

    def close(self) -> None:
        """Unmap the file."""
        try:
            self._map.close()
        except (AttributeError, BufferError):
            pass
