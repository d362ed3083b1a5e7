"""The tolerant reader: every complete, intact block of a recording, and where the damage is.

Why tolerant: a recorder killed with SIGKILL, a full disk or a copy cut short leave a file
whose end is a half-written block, and a bad sector leaves a block whose checksum fails. A
replay must show everything before that point and say exactly where it stopped (byte offset
and recording time), never refuse the whole file nor read garbage past it. Hopping from block
header to block header (checking each checksum, decompressing nothing) is also how the seek
index is built when a file is opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from poolmon.core.recording.format import (
    BlockInfo,
    RecordingError,
    RecordingHeader,
    block_intact,
    decode_header,
    header_size_needed,
    read_block_header,
)


@dataclass(frozen=True, slots=True)
class Damage:
    """Where a recording stops being readable.

    Attributes:
        offset: Byte offset of the first unreadable block (or of the cut-off end).
        time_ns: Receive time of the last readable entry before it (None: nothing before).
        reason: What is wrong there, in words.
    """

    offset: int
    time_ns: int | None
    reason: str

    def describe(self) -> str:
        """`stopped at byte 48,213 (after 12:03:04.250 UTC): the file ends inside a block`."""
        return f"stopped at byte {self.offset:,}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Scan:
    """A recording's header, its readable blocks in order, and the damage after them.

    Attributes:
        header: The file's header.
        data_offset: Where the first block starts.
        blocks: Every readable block, in file order (receive times never go backwards
            within a block; across blocks they follow the recorder's wall clock).
        damage: Why reading stopped before the end of the file, or None if it did not.
        size: Bytes in the file.
    """

    header: RecordingHeader
    data_offset: int
    blocks: tuple[BlockInfo, ...]
    damage: Damage | None
    size: int

    @property
    def first_ns(self) -> int | None:
        """Receive time of the first entry (None: no block)."""
        return self.blocks[0].first_ns if self.blocks else None

    @property
    def last_ns(self) -> int | None:
        """Receive time of the last readable entry (None: no block)."""
        return self.blocks[-1].last_ns if self.blocks else None


def scan(data: bytes | memoryview, protocol_version: int, *, verify: bool = True) -> Scan:
    """Read the header and list the blocks up to the first damaged or incomplete one.

    Args:
        data: The whole file (bytes, or a memoryview of an mmap).
        protocol_version: The newest protocol version this reader understands.
        verify: Check every block's CRC (reads all bytes; without it only headers are read
            and a corrupt body is found when the block is decoded).

    Raises:
        RecordingError: Not a recording, a newer format or protocol version, or a damaged
            header: nothing in the file can be trusted then.
    """
    header = decode_header(data, protocol_version)
    offset = header_size_needed(data)
    blocks: list[BlockInfo] = []
    damage: Damage | None = None
    size = len(data)
    while offset < size:
        last = blocks[-1].last_ns if blocks else None
        try:
            info = read_block_header(data, offset)
            if offset + info.size > size:
                raise RecordingError("the file ends inside a block (the writer stopped there)")
            if verify and not block_intact(data, info):
                raise RecordingError("a block's checksum does not match (damaged bytes)")
            if last is not None and info.first_ns < last - _BACKWARDS_TOLERANCE_NS:
                raise RecordingError("a block goes back in time (damaged bytes)")
        except RecordingError as exc:
            damage = Damage(offset, last, str(exc))
            break
        blocks.append(info)
        offset += info.size
    return Scan(header, header_size_needed(data), tuple(blocks), damage, size)


_BACKWARDS_TOLERANCE_NS = 3_600_000_000_000
"""A wall clock stepping back an hour between blocks is damage, not NTP."""
