"""`RawMonitorClient`: a monitor connection that keeps BATCH frames as the bytes it received.

Why: the recorder stores frames, it does not look inside them, and every microsecond it
spends per task comes out of the pool's own CPUs when both run on one machine. This client
is `MonitorClient` (same handshake, subscription, resume, loss accounting, reconnects
through `ReconnectingClient(client_class=...)`) except that it reads only the length prefix
of every frame and the `seq`/`end` head of every BATCH (`UndecodedBatch`); the other frames
(WELCOME, ROLLUPS, HISTORY_END, HEARTBEAT, ERROR, CLOSE, REPLY: a few a second) are decoded
as usual, because the connection's own logic needs them.

It asks for ROLLUPS in their first form (histograms as int lists, not the packed bins of
docs/PROTOCOL.md, "Packed histograms") unless told otherwise: a recording is a file people
keep and share, and the format (docs/RECORDING.md) promises that every later poolmon
replays it; rollups are a few frames a minute, so the size is the same.
"""

from __future__ import annotations

from typing import Any

from poolmon.core.protocol import Frame, decode_body
from poolmon.core.recording.rawbatch import batch_from_body
from poolmon.runtime.client import MonitorClient


class RawMonitorClient(MonitorClient):
    """`MonitorClient` whose BATCH frames arrive as `UndecodedBatch` (see the module doc)."""

    def __init__(self, *args: Any, packed_rollups: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, packed_rollups=packed_rollups, **kwargs)

    def _frames_of(self, data: bytes | memoryview) -> list[Frame]:
        frames: list[Frame] = []
        for body in self._decoder.bodies(data):
            batch = batch_from_body(body)
            frames.append(batch if batch is not None else decode_body(body))
        return frames
