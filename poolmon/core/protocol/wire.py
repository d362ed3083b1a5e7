"""What the protocol's encoder and decoder must agree on: type numbers, length prefix, columns.

Kept apart from both directions so `encoding` and `decoding` read the same constants instead of
each restating them (docs/PROTOCOL.md, "Framing" and "Task batches").
"""

from __future__ import annotations

import struct
import sys
from typing import Any, Final

from poolmon.core.events import TASK_COLUMNS
from poolmon.core.protocol.frames import (
    Batch,
    Close,
    Command,
    Error,
    Heartbeat,
    Hello,
    HistoryEnd,
    Reply,
    Rollups,
    Subscribe,
    Welcome,
)

LENGTH_PREFIX: Final = struct.Struct(">I")
"""The uint32 big-endian length that precedes every frame body."""

MAX_BODY_SIZE: Final = 0xFFFFFFFF
"""The largest body a 32-bit length prefix can announce."""

TASK_COLUMN_COUNT: Final = len(TASK_COLUMNS)
"""Columns in a task record's blob, each `rows` little-endian int64 values."""

HOST_IS_LITTLE_ENDIAN: Final = sys.byteorder == "little"
"""True where `array('q')` bytes already are the wire's little-endian order (no byteswap)."""

FRAME_TYPES: Final[dict[type[Any], int]] = {
    Hello: 1,
    Welcome: 2,
    Subscribe: 3,
    Batch: 4,
    Rollups: 5,
    HistoryEnd: 6,
    Heartbeat: 7,
    Command: 8,
    Reply: 9,
    Error: 10,
    Close: 11,
}
"""Frame class -> the type number that starts its body."""
