"""Sans-IO codec for the monitor protocol: `encode(frame) -> bytes`, `Decoder.feed(bytes)`.

Nothing here touches a socket (the h11 / pynvim lesson): the server and the client read and
write bytes and hand them to this module, so every byte of the protocol can be tested, fuzzed and
dumped without IO. Wire format (docs/PROTOCOL.md is the normative text):

    frame = length:uint32 big-endian || body            (length = len(body) <= max_frame_size)
    body  = msgpack array [type:int, fields:map str->value]

Task batches travel columnar: one msgpack `bin` holding the eight int64 columns, each
little-endian, one after another, so packing and unpacking never touch a Python int per task.
Any input that is not a valid frame raises `FrameError` (a `ProtocolError`) with a reason and a
code, and the decoder refuses further input: a connection that sent garbage is closed, never
resynchronised.

The codec lives in three modules: `encoding` (frames to bytes), `decoding` (bytes to frames) and
`wire` (the type numbers and byte layout both must agree on). This module gathers their names so
`poolmon.core.protocol.codec` stays the one import path for the codec as a whole.
"""

from __future__ import annotations

from poolmon.core.protocol.decoding import Decoder, decode_body
from poolmon.core.protocol.encoding import (
    encode,
    encode_batch_parts,
    event_to_wire,
    pack_records,
    task_batch_to_wire,
)
from poolmon.core.protocol.wire import FRAME_TYPES

__all__ = [
    "FRAME_TYPES",
    "Decoder",
    "decode_body",
    "encode",
    "encode_batch_parts",
    "event_to_wire",
    "pack_records",
    "task_batch_to_wire",
]
