"""Task columns made compressible: delta, zigzag and byte planes, and back, losslessly.

Why: a BATCH's task columns are 64 bytes a task on the wire, and a recording should cost a
few bytes a task (issue #15 asks for at most 12 at 100k tasks/s). The columns are already
apart (columnar batches), so each one is delta-coded (task ids and start times rise steadily:
their differences are small), zigzag-mapped (a small negative difference becomes a small
positive number, so its high bytes are zero) and split into its eight byte planes (all the
lowest bytes, then all the second bytes, ...), which leaves long runs of zero bytes for zlib.
The packed blob has exactly the size of the original one, so a packed BATCH keeps the
protocol's layout (docs/RECORDING.md, "Packed batches").
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
