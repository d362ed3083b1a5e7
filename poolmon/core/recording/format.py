"""The recording file format: a header, then self-contained compressed blocks of entries.

Why this shape (docs/RECORDING.md is the specification):

* The entries are the protocol's own frames as the monitor received them, each stamped with
  its receive time, so a replay feeds a normal aggregator exactly what a live monitor fed it.
* Entries are grouped in blocks of about a second, each compressed on its own and carrying a
  CRC, its entry count and the receive times of its first and last entry. A writer killed
  mid-block leaves a file whose complete blocks all read; a reader finds where the damage is
  (offset and time) instead of guessing; and the block headers are the seek index: hopping
  from header to header lists an hour's blocks in milliseconds without decompressing any.

Pure: bytes in, bytes out. Reading files is `poolmon.runtime.recording`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Final

import msgpack

from poolmon.core.errors import PoolmonError
from poolmon.core.recording.codecs import CODEC_ZSTD, CODECS, ZSTD_LEVEL, compress, decompress

MAGIC: Final = b"PMREC\r\n\x1a"
"""The first 8 bytes of every recording (CR LF and ^Z catch text-mode mangling, like PNG)."""

FORMAT_VERSION: Final = 2
"""Version of this file layout; a reader refuses a newer one and reads every older one.

1: zlib blocks, task columns packed in full (`ENTRY_PACKED_BATCH`). 2: adds Zstandard blocks
(`CODEC_ZSTD`) and sparse-packed columns (`ENTRY_SPARSE_BATCH`), what a recorder now writes."""

_FIXED: Final = struct.Struct(">8sHHI")  # magic, format version, flags, header map length
_CRC: Final = struct.Struct(">I")
MAX_HEADER_MAP: Final = 1 << 20
"""A header map longer than this is damage, not a header."""

BLOCK_MARKER: Final = b"PMBK"
"""The first 4 bytes of every block."""

_BLOCK: Final = struct.Struct(">4sIIqqIB3x")  # marker, body, raw, first, last, count, codec
BLOCK_HEADER_SIZE: Final = _BLOCK.size + _CRC.size
"""Bytes before a block's body: the fields above and the CRC."""

MAX_BLOCK_BODY: Final = 256 << 20
"""A block body (compressed or not) longer than this is damage."""

_ENTRY: Final = struct.Struct(">BqI")  # kind, receive time, payload length

ENTRY_FRAME: Final = 1
"""Payload: one protocol frame body (msgpack `[type, fields]`), exactly as on the wire."""
ENTRY_PACKED_BATCH: Final = 2
"""Payload: a BATCH frame body whose task `columns` are packed (`recording.columns`)."""
ENTRY_NOTE: Final = 3
"""Payload: a msgpack map from the recorder itself (link down/up, its own drops)."""
ENTRY_SPARSE_BATCH: Final = 4
"""Payload: a BATCH frame body whose task `columns` are sparse-packed (`columns.pack_sparse`)."""
ENTRY_KINDS: Final = frozenset({ENTRY_FRAME, ENTRY_PACKED_BATCH, ENTRY_NOTE, ENTRY_SPARSE_BATCH})


class RecordingError(PoolmonError):
    """A file is not a recording this poolmon can read (wrong magic, newer version, damage)."""


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    """Who was recorded, where and when, and which versions wrote the file.

    Attributes:
        protocol_version: Protocol version of the frames inside.
        pool: Pool name (from the pool's WELCOME).
        pid: Pool process id.
        host: Host the pool ran on.
        pool_started_at_ns: The pool's start time (its identity with `pid`).
        started_at_ns: When the recording started (wall clock of the recorder).
        catalog_version: Event catalog version the pool announced.
        recorder: What wrote the file (`poolmon record 0.1.0`, `poolmon attach 0.1.0`).
        part: Rotation: 1 for the first file of a recording, 2 for the next, ...
        format_version: File layout version (`FORMAT_VERSION` when written here).
        extra: Header keys this version does not know (kept, never interpreted).
    """

    protocol_version: int
    pool: str
    pid: int
    host: str
    pool_started_at_ns: int
    started_at_ns: int
    catalog_version: int = 0
    recorder: str = ""
    part: int = 1
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)


_HEADER_KEYS: Final = (
    "protocol_version",
    "pool",
    "pid",
    "host",
    "pool_started_at_ns",
    "started_at_ns",
    "catalog_version",
    "recorder",
    "part",
)


def encode_header(header: RecordingHeader, format_version: int = FORMAT_VERSION) -> bytes:
    """The file's first bytes: magic, format version, the header map and its CRC.

    `format_version` is this poolmon's unless a test writes an older file on purpose (the
    header's own `format_version`, read from another file, is never copied: the blocks that
    follow are this version's).
    """
    fields = {key: getattr(header, key) for key in _HEADER_KEYS}
    body: bytes = msgpack.packb({**header.extra, **fields}, use_bin_type=True)
    head = _FIXED.pack(MAGIC, format_version, 0, len(body)) + body
    return head + _CRC.pack(zlib.crc32(head))


def header_size_needed(data: bytes | memoryview) -> int:
    """How many bytes the header takes, from its first 16 (RecordingError if not a recording)."""
    if len(data) < _FIXED.size:
        raise RecordingError(f"not a poolmon recording: only {len(data)} bytes")
    magic, version, _flags, length = _FIXED.unpack_from(data)
    version, length = int(version), int(length)
    if magic != MAGIC:
        raise RecordingError("not a poolmon recording (the file does not start with PMREC)")
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"recording format version {version} is newer than this poolmon reads "
            f"({FORMAT_VERSION}): upgrade poolmon to replay it"
        )
    if length > MAX_HEADER_MAP:
        raise RecordingError(f"damaged recording: header of {length} bytes")
    return _FIXED.size + length + _CRC.size


def decode_header(data: bytes | memoryview, protocol_version: int) -> RecordingHeader:
    """Read and check the header; a newer protocol version than `protocol_version` is refused.

    Raises:
        RecordingError: Not a recording, a newer format or protocol, or a damaged header.
    """
    size = header_size_needed(data)
    if len(data) < size:
        raise RecordingError(f"damaged recording: the header needs {size} bytes, has {len(data)}")
    (crc,) = _CRC.unpack_from(data, size - _CRC.size)
    if zlib.crc32(bytes(data[: size - _CRC.size])) != crc:
        raise RecordingError("damaged recording: the header's checksum does not match")
    try:
        fields = msgpack.unpackb(bytes(data[_FIXED.size : size - _CRC.size]), raw=False)
    except (ValueError, msgpack.ExtraData) as exc:
        raise RecordingError(f"damaged recording header: {exc}") from None
    if not isinstance(fields, dict):
        raise RecordingError("damaged recording header: not a map")
    try:
        header = RecordingHeader(
            protocol_version=int(fields["protocol_version"]),
            pool=str(fields["pool"]),
            pid=int(fields["pid"]),
            host=str(fields["host"]),
            pool_started_at_ns=int(fields["pool_started_at_ns"]),
            started_at_ns=int(fields["started_at_ns"]),
            catalog_version=int(fields.get("catalog_version", 0)),
            recorder=str(fields.get("recorder", "")),
            part=int(fields.get("part", 1)),
            format_version=_FIXED.unpack_from(data)[1],
            extra={k: v for k, v in fields.items() if k not in _HEADER_KEYS},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordingError(f"damaged recording header: missing or bad {exc}") from None
    if header.protocol_version > protocol_version:
        raise RecordingError(
            f"this recording holds protocol version {header.protocol_version} frames; this "
            f"poolmon speaks version {protocol_version}: upgrade poolmon to replay it"
        )
    return header


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the monitor received: a frame (plain or with packed columns) or a note.

    Attributes:
        kind: `ENTRY_FRAME`, `ENTRY_SPARSE_BATCH` (format 2), `ENTRY_PACKED_BATCH` (format 1)
            or `ENTRY_NOTE`.
        recv_ns: Wall-clock time the recorder received it.
        payload: The frame body (or note map), without a length prefix.
    """

    kind: int
    recv_ns: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """A block's header: where it is, what time it covers, how many entries it holds.

    Attributes:
        offset: Byte offset of the block's header in the file.
        size: Header plus body bytes.
        first_ns: Receive time of the first entry.
        last_ns: Receive time of the last entry.
        count: Entries in the block.
        raw_size: Body bytes once decompressed.
        codec: `CODEC_STORED`, `CODEC_ZLIB` or `CODEC_ZSTD` (`recording.codecs`).
        crc: CRC-32 of the header fields and the body.
    """

    offset: int
    size: int
    first_ns: int
    last_ns: int
    count: int
    raw_size: int
    codec: int
    crc: int


def encode_block(entries: list[Entry], codec: int = CODEC_ZSTD, level: int = ZSTD_LEVEL) -> bytes:
    """A block holding `entries` (non-empty, in receive order), compressed with `codec` at `level`.

    Version 1 files were written with `CODEC_ZLIB` (level 1 by recorders, 6 by default here).
    """
    if not entries:
        raise ValueError("a block holds at least one entry")
    parts: list[bytes] = []
    for e in entries:
        parts += (_ENTRY.pack(e.kind, e.recv_ns, len(e.payload)), e.payload)
    raw = b"".join(parts)
    body = compress(raw, codec, level)
    fields = _BLOCK.pack(
        BLOCK_MARKER, len(body), len(raw), entries[0].recv_ns, entries[-1].recv_ns,
        len(entries), codec,
    )  # fmt: skip
    crc = zlib.crc32(body, zlib.crc32(fields))
    return fields + _CRC.pack(crc) + body


def read_block_header(data: bytes | memoryview, offset: int) -> BlockInfo:
    """The block header at `offset` (RecordingError when it is cut off or not a block)."""
    if len(data) - offset < BLOCK_HEADER_SIZE:
        raise RecordingError("the file ends inside a block header (the writer stopped there)")
    marker, body, raw, first, last, count, codec = _BLOCK.unpack_from(data, offset)
    if marker != BLOCK_MARKER:
        raise RecordingError("no block starts here (the bytes are damaged)")
    if body > MAX_BLOCK_BODY or raw > MAX_BLOCK_BODY or codec not in CODECS:
        raise RecordingError("the block header is damaged (impossible sizes or codec)")
    if last < first or count == 0:
        raise RecordingError("the block header is damaged (times or count)")
    (crc,) = _CRC.unpack_from(data, offset + _BLOCK.size)
    return BlockInfo(offset, BLOCK_HEADER_SIZE + body, first, last, count, raw, codec, crc)


def block_intact(data: bytes | memoryview, info: BlockInfo) -> bool:
    """Whether the block's header fields and body match its CRC (False if it is cut off)."""
    end = info.offset + info.size
    if len(data) < end:
        return False
    fields = data[info.offset : info.offset + _BLOCK.size]
    body = data[info.offset + BLOCK_HEADER_SIZE : end]
    return zlib.crc32(body, zlib.crc32(fields)) == info.crc


def decode_block(data: bytes | memoryview, info: BlockInfo) -> list[Entry]:
    """The entries of the block `info` describes; RecordingError if it is cut off or damaged."""
    start = info.offset + BLOCK_HEADER_SIZE
    end = info.offset + info.size
    if len(data) < end:
        raise RecordingError("the file ends inside a block (the writer stopped there)")
    if not block_intact(data, info):
        raise RecordingError("a block's checksum does not match (the bytes are damaged)")
    body = bytes(data[start:end])
    try:
        raw = decompress(body, info.codec, info.raw_size)
    except ValueError as exc:
        raise RecordingError(f"a block does not decompress: {exc}") from None
    if len(raw) != info.raw_size:
        raise RecordingError("a block's size does not match its header")
    entries: list[Entry] = []
    pos = 0
    while pos < len(raw):
        if len(raw) - pos < _ENTRY.size:
            raise RecordingError("a block ends inside an entry")
        kind, recv_ns, length = _ENTRY.unpack_from(raw, pos)
        pos += _ENTRY.size
        if kind not in ENTRY_KINDS or pos + length > len(raw):
            raise RecordingError("a block holds a damaged entry")
        entries.append(Entry(kind, recv_ns, raw[pos : pos + length]))
        pos += length
    if len(entries) != info.count:
        raise RecordingError("a block holds another number of entries than its header says")
    return entries
