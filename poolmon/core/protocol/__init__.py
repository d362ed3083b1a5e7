"""The monitor protocol between a pool's endpoint and its monitors, without any IO.

Frames are frozen dataclasses (`frames`), `encode(frame) -> bytes` and `Decoder.feed(bytes) ->
list[Frame]` convert them (`codec`). The server (`poolmon.runtime.endpoint`) and the client
(`poolmon.runtime.client`) only move the bytes. docs/PROTOCOL.md is the specification.
"""

from __future__ import annotations

from poolmon.core.protocol.codec import FRAME_TYPES, Decoder, decode_body, encode
from poolmon.core.protocol.frames import (
    CAPABILITIES,
    DEFAULT_MAX_FRAME_SIZE,
    ERROR_CODES,
    HEADER_SIZE,
    LIVE_TASKS,
    PROTOCOL_MAGIC,
    PROTOCOL_VERSION,
    Batch,
    Close,
    Command,
    Error,
    Frame,
    FrameError,
    Heartbeat,
    Hello,
    HistoryEnd,
    Reply,
    Rollups,
    Subscribe,
    Welcome,
)

__all__ = [
    "CAPABILITIES",
    "DEFAULT_MAX_FRAME_SIZE",
    "ERROR_CODES",
    "FRAME_TYPES",
    "HEADER_SIZE",
    "LIVE_TASKS",
    "PROTOCOL_MAGIC",
    "PROTOCOL_VERSION",
    "Batch",
    "Close",
    "Command",
    "Decoder",
    "Error",
    "Frame",
    "FrameError",
    "Heartbeat",
    "Hello",
    "HistoryEnd",
    "Reply",
    "Rollups",
    "Subscribe",
    "Welcome",
    "decode_body",
    "encode",
]
