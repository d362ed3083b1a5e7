"""Task columns made compressible: delta, zigzag and byte planes, and back, losslessly.

Why: a BATCH's task columns are 64 bytes a task on the wire, and a recording should cost a
few bytes a task (issue #15 asks for at most 12 at 100k tasks/s). The columns are already
apart (columnar batches), so each one is delta-coded (task ids and start times rise steadily:
their differences are small), zigzag-mapped (a small negative difference becomes a small
positive number, so its high bytes are zero) and split into its eight byte planes (all the
lowest bytes, then all the second bytes, ...), which leaves long runs of zero bytes for zlib.
`pack_columns` (format version 1) keeps every plane, so its blob has exactly the size of
the original one; `pack_sparse` (version 2, what a recorder writes) drops the planes that are
all zero, so the compressor is handed a fifth of the bytes (docs/RECORDING.md, "File
format"). Readers undo both.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from poolmon.core.protocol.wire import TASK_COLUMN_COUNT

_LE: Final = np.dtype("<i8")
_ULE: Final = np.dtype("<u8")


def pack_columns(blob: bytes, rows: int) -> bytes:
    """The protocol's `rows x 8` little-endian int64 columns, packed (same length).

    Raises:
        ValueError: `blob` does not hold `rows` rows of every column.
    """
    if len(blob) != rows * 8 * TASK_COLUMN_COUNT:
        raise ValueError(f"columns of {rows} rows need {rows * 64} bytes, got {len(blob)}")
    if rows == 0:
        return b""
    grid = np.frombuffer(blob, dtype=_LE).reshape(TASK_COLUMN_COUNT, rows)
    delta = np.empty_like(grid)
    delta[:, 0] = grid[:, 0]
    np.subtract(grid[:, 1:], grid[:, :-1], out=delta[:, 1:])  # wraps like int64 arithmetic
    zigzag = ((delta << 1) ^ (delta >> 63)).astype(_ULE, copy=False)
    planes = zigzag.view(np.uint8).reshape(TASK_COLUMN_COUNT, rows, 8).transpose(0, 2, 1)
    return planes.tobytes()


def unpack_columns(packed: bytes, rows: int) -> bytes:
    """Undo `pack_columns`: the protocol's column blob, byte for byte.

    Raises:
        ValueError: `packed` does not hold `rows` rows of every column.
    """
    if len(packed) != rows * 8 * TASK_COLUMN_COUNT:
        raise ValueError(f"packed columns of {rows} rows need {rows * 64} bytes, got {len(packed)}")
    if rows == 0:
        return b""
    planes = np.frombuffer(packed, dtype=np.uint8).reshape(TASK_COLUMN_COUNT, 8, rows)
    zigzag = (
        np.ascontiguousarray(planes.transpose(0, 2, 1)).view(_ULE).reshape(TASK_COLUMN_COUNT, rows)
    )
    delta = ((zigzag >> np.uint64(1)) ^ (np.uint64(0) - (zigzag & np.uint64(1)))).view(_LE)
    return np.cumsum(delta, axis=1, dtype=_LE).astype(_LE, copy=False).tobytes()


SPARSE_HEAD: Final = 8 + 8 * TASK_COLUMN_COUNT
"""Bytes before sparse-packed planes: the plane mask and every column's first value."""


def pack_sparse(data: bytes | memoryview, rows: int, offset: int = 0) -> bytes:
    """The `rows x 8` int64 columns at `data[offset:]`, sparse-packed (format version 2).

    Why, beside `pack_columns`: a trivial task's columns hold ~11 non-zero bytes of 64 once
    delta-coded (task ids step by one, op and status do not change, times move by a few
    microseconds), and a compressor's time grows with the bytes it is given, zeros included.
    So each column's first value is stored as it is, the rest as zigzagged differences cut
    into byte planes, and only the planes that are not all zero are kept: the compressor
    reads a fifth of the bytes (docs/RECORDING.md, "File format"). No copy of `data` is made
    (a memoryview or the frame body itself is read in place).

    Layout: `mask:u64le` (bit `8 * column + byte` set when that plane is kept) | the first
    value of every column (8 x i64le) | the kept planes in mask order, `rows - 1` bytes each.
    Zero rows pack to nothing.

    Raises:
        ValueError: `data` does not hold `rows` rows of every column at `offset`.
    """
    if rows < 0 or len(data) - offset < rows * 8 * TASK_COLUMN_COUNT:
        raise ValueError(f"columns of {rows} rows need {rows * 64} bytes at offset {offset}")
    if rows == 0:
        return b""
    grid = np.frombuffer(data, _LE, rows * TASK_COLUMN_COUNT, offset)
    grid = grid.reshape(TASK_COLUMN_COUNT, rows)
    zigzag = np.empty((TASK_COLUMN_COUNT, rows - 1), _LE)
    delta = np.subtract(grid[:, 1:], grid[:, :-1])  # wraps like int64 arithmetic
    np.left_shift(delta, 1, out=zigzag)
    np.right_shift(delta, 63, out=delta)
    np.bitwise_xor(zigzag, delta, out=zigzag)
    present = np.bitwise_or.reduce(zigzag, axis=1).astype(_LE, copy=False)
    kept = present.view(np.uint8).reshape(TASK_COLUMN_COUNT, 8) != 0
    columns, planes = np.nonzero(kept)
    bytes_ = zigzag.view(np.uint8).reshape(TASK_COLUMN_COUNT, rows - 1, 8)
    mask = np.packbits(kept.ravel(), bitorder="little").tobytes()
    return b"".join((mask, grid[:, 0].tobytes(), bytes_[columns, :, planes].tobytes()))


def unpack_sparse(packed: bytes, rows: int) -> bytes:
    """Undo `pack_sparse`: the protocol's column blob, byte for byte.

    Raises:
        ValueError: `packed` is not sparse-packed columns of `rows` rows.
    """
    if rows == 0:
        if packed:
            raise ValueError(f"sparse columns of 0 rows hold {len(packed)} bytes")
        return b""
    if len(packed) < SPARSE_HEAD:
        raise ValueError(f"sparse columns need {SPARSE_HEAD} bytes, got {len(packed)}")
    head = np.frombuffer(packed, np.uint8, 8)
    kept = np.unpackbits(head, bitorder="little").reshape(TASK_COLUMN_COUNT, 8).astype(bool)
    columns, planes = np.nonzero(kept)
    if len(packed) != SPARSE_HEAD + len(columns) * (rows - 1):
        raise ValueError(f"sparse columns of {rows} rows and {len(columns)} planes: wrong length")
    grid = np.empty((TASK_COLUMN_COUNT, rows), _LE)
    grid[:, 0] = np.frombuffer(packed, _LE, TASK_COLUMN_COUNT, 8)
    zigzag = np.zeros((TASK_COLUMN_COUNT, rows - 1), _ULE)
    stored = np.frombuffer(packed, np.uint8, offset=SPARSE_HEAD).reshape(len(columns), rows - 1)
    zigzag.view(np.uint8).reshape(TASK_COLUMN_COUNT, rows - 1, 8)[columns, :, planes] = stored
    delta = ((zigzag >> np.uint64(1)) ^ (np.uint64(0) - (zigzag & np.uint64(1)))).view(_LE)
    np.cumsum(delta, axis=1, dtype=_LE, out=grid[:, 1:])
    grid[:, 1:] += grid[:, :1]
    return grid.tobytes()
