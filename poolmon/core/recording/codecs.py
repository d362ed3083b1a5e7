"""Block compression: which codec a block's body is in, and how to apply or undo it.

Why a codec byte per block (docs/RECORDING.md, "File format"): a reader takes every block
as its header says, so files written with zlib (format version 1) keep replaying after the
recorder moved to Zstandard (version 2), and a block may be stored as is. Why Zstandard
level 1 for writing: on a saturated pool's stream of sparse-packed columns it compresses in
about a fifth of zlib level 1's CPU and to fewer bytes (docs/BENCHMARKS.md, "Record and
replay"), and the recorder's CPU comes out of the pool's machine.

Pure: bytes in, bytes out.
"""

from __future__ import annotations

import zlib
from typing import Final

import zstandard

CODEC_STORED: Final = 0
"""Block body stored as is."""
CODEC_ZLIB: Final = 1
"""Block body compressed with zlib (RFC 1950): format version 1's writer."""
CODEC_ZSTD: Final = 2
"""Block body is one Zstandard frame (RFC 8878) with its content size: version 2's writer."""
CODECS: Final = frozenset({CODEC_STORED, CODEC_ZLIB, CODEC_ZSTD})
"""Every codec this reader knows; a block with another one is damage (or a newer format)."""

ZSTD_LEVEL: Final = 1
"""What a recorder writes with: Zstandard's level 1 (negative levels save ~30 % CPU more but
write ~5 % more bytes; 3, the library's default, costs ~45 % more CPU for 2 % fewer bytes)."""


def compress(raw: bytes, codec: int, level: int) -> bytes:
    """`raw` compressed with `codec` at `level` (ignored for `CODEC_STORED`)."""
    if codec == CODEC_ZSTD:
        # A compressor per block: it is not safe to share across threads, and a block is
        # ~1 s of recording, so building one (microseconds) is nothing beside compressing.
        out: bytes = zstandard.ZstdCompressor(level=level).compress(raw)
        return out
    if codec == CODEC_ZLIB:
        return zlib.compress(raw, level)
    if codec == CODEC_STORED:
        return raw
    raise ValueError(f"unknown block codec {codec}")


def decompress(body: bytes, codec: int, raw_size: int) -> bytes:
    """A block body decompressed (at most `raw_size` bytes accepted).

    Raises:
        ValueError: The body does not decompress with its codec.
    """
    try:
        if codec == CODEC_ZSTD:
            if zstandard.frame_content_size(body) > raw_size:
                raise ValueError("the block's frame is larger than its header says")
            out: bytes = zstandard.ZstdDecompressor().decompress(body, max_output_size=raw_size)
            return out
        if codec == CODEC_ZLIB:
            return zlib.decompress(body)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    if codec == CODEC_STORED:
        return body
    raise ValueError(f"unknown block codec {codec}")
