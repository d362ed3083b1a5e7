"""Annotated byte dumps of encoded frames, for docs/PROTOCOL.md and for debugging a peer.

The dumps in the specification are produced by this module from the real encoder, and a test
regenerates them and compares, so the document cannot drift from the code. Each line shows a
run of bytes in hex and what they mean (the length prefix, each msgpack header, key and value;
task columns one int64 per line).
"""

from __future__ import annotations

import struct
from typing import Final

from poolmon.core.events import TASK_COLUMNS
from poolmon.core.protocol.codec import FRAME_TYPES, encode
from poolmon.core.protocol.frames import Frame

_TYPE_NAMES: Final = {code: cls.__name__.upper() for cls, code in FRAME_TYPES.items()}
_HEX_WIDTH: Final = 16  # bytes of hex shown per line before wrapping
_COL: Final = 3 * 12  # column where the annotation starts


class _Walker:
    """Walk one msgpack document, emitting (bytes, meaning) lines."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.lines: list[tuple[bytes, str]] = []

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def emit(self, raw: bytes, text: str, indent: int) -> None:
        self.lines.append((raw, "  " * indent + text))

    def value(self, indent: int, label: str = "") -> object:
        start = self.pos
        b = self.take(1)[0]
        prefix = f"{label}: " if label else ""
        if b <= 0x7F or b >= 0xE0:
            v = b if b <= 0x7F else b - 256
            self.emit(self.data[start : self.pos], f"{prefix}int {v}", indent)
            return v
        if 0xA0 <= b <= 0xBF or b in (0xD9, 0xDA, 0xDB):
            n = b & 0x1F if b <= 0xBF else self._len({0xD9: 1, 0xDA: 2, 0xDB: 4}[b])
            s = self.take(n).decode("utf-8", "replace")
            self.emit(self.data[start : self.pos], f'{prefix}str({n}) "{s}"', indent)
            return s
        if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
            n = b & 0x0F if b <= 0x9F else self._len({0xDC: 2, 0xDD: 4}[b])
            self.emit(self.data[start : self.pos], f"{prefix}array({n})", indent)
            return [self.value(indent + 1) for _ in range(n)]
        if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
            n = b & 0x0F if b <= 0x8F else self._len({0xDE: 2, 0xDF: 4}[b])
            self.emit(self.data[start : self.pos], f"{prefix}map({n})", indent)
            out = {}
            for _ in range(n):
                key = self.value(indent + 1)
                out[str(key)] = self.value(indent + 2, f"{key}")
            return out
        if b in (0xC4, 0xC5, 0xC6):
            n = self._len({0xC4: 1, 0xC5: 2, 0xC6: 4}[b])
            self.emit(self.data[start : self.pos], f"{prefix}bin({n})", indent)
            self._blob(self.take(n), indent + 1)
            return None
        fixed = {0xC0: ("nil", 0), 0xC2: ("false", 0), 0xC3: ("true", 0)}
        if b in fixed:
            self.emit(self.data[start : self.pos], f"{prefix}{fixed[b][0]}", indent)
            return None
        fmt = {
            0xCC: ">B",
            0xCD: ">H",
            0xCE: ">I",
            0xCF: ">Q",
            0xD0: ">b",
            0xD1: ">h",
            0xD2: ">i",
            0xD3: ">q",
            0xCA: ">f",
            0xCB: ">d",
        }[b]
        (v,) = struct.unpack(fmt, self.take(struct.calcsize(fmt)))
        kind = "float" if b in (0xCA, 0xCB) else ("uint" if b <= 0xCF else "int")
        self.emit(self.data[start : self.pos], f"{prefix}{kind} {v}", indent)
        return v

    def _len(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def _blob(self, blob: bytes, indent: int) -> None:
        rows = len(blob) // (8 * len(TASK_COLUMNS)) if len(blob) % 64 == 0 else 0
        if not rows:
            self.emit(blob, "(opaque bytes)", indent)
            return
        for c, name in enumerate(TASK_COLUMNS):
            for r in range(rows):
                raw = blob[(c * rows + r) * 8 : (c * rows + r + 1) * 8]
                (v,) = struct.unpack("<q", raw)
                self.emit(raw, f"{name}[{r}] = {v} (int64 LE)", indent)


def annotate(data: bytes) -> str:
    """An annotated dump of one encoded frame (length prefix included)."""
    (length,) = struct.unpack(">I", data[:4])
    walker = _Walker(data[4:])
    walker.lines.append((data[:4], f"length prefix: body is {length} bytes (uint32 BE)"))
    body_start = len(walker.lines)
    walker.value(0, "body")
    lines = walker.lines
    # name the frame type on the line of the type number (first element of the body array)
    raw, text = lines[body_start + 1]
    code = int(text.rsplit(" ", 1)[-1])
    lines[body_start + 1] = (raw, f"{text}  (type {code} = {_TYPE_NAMES.get(code, '?')})")
    out = []
    for raw, meaning in lines:
        hexes = raw.hex(" ")
        chunks = [
            hexes[i : i + 3 * _HEX_WIDTH].strip() for i in range(0, len(hexes), 3 * _HEX_WIDTH)
        ] or [""]
        out.append(f"{chunks[0].ljust(_COL + 12)} {meaning}".rstrip())
        out.extend(chunk for chunk in chunks[1:])
    return "\n".join(out)


def dump(frame: Frame) -> str:
    """Encode `frame` and annotate the bytes."""
    return annotate(encode(frame))


def examples() -> list[tuple[str, Frame]]:
    """One example of every frame type, as shown in docs/PROTOCOL.md (fixed values)."""
    from poolmon.core.events import Event, TaskBatch
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

    t0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
    tasks = TaskBatch.from_rows(
        [
            (1, 0, "fetch", t0, 1_500, 200, 0, ""),
            (2, 1, "fetch", t0 + 100_000, 2_500, 300, 1, "ValueError"),
        ]
    )
    state = Event("poolmon.worker.state", t0, {"previous_state_ns": 5_000}, {"worker_id": 1})
    rollup = {
        "v": 1,
        "s": t0 - 1_000_000_000,
        "n": 1,
        "st": [1, 0, 0, 0, 0],
        "op": [["fetch", 1, 0, [[40], [1], 1500.0, 1500, 1500]]],
        "w": [[0, 1, 0]],
        "e": [],
        "d": [[40], [1], 1500.0, 1500, 1500],
        "q": [[20], [1], 200.0, 200, 200],
    }
    packed = {  # the same second with packed histograms (SUBSCRIBE `packed_rollups`)
        **rollup,
        "v": 2,
        "op": [["fetch", 1, 0, [b"\x28\x00", b"\x01\x00\x00\x00", 1500.0, 1500, 1500]]],
        "d": [b"\x28\x00", b"\x01\x00\x00\x00", 1500.0, 1500, 1500],
        "q": [b"\x14\x00", b"\x01\x00\x00\x00", 200.0, 200, 200],
    }
    return [
        ("HELLO", Hello(client="poolmon attach", pid=4242, read_only=False)),
        (
            "WELCOME",
            Welcome(
                pool="etl",
                pid=1000,
                host="db1",
                started_at_ns=t0,
                catalog_version=2,
                next_seq=12,
                oldest_seq=0,
            ),
        ),
        ("SUBSCRIBE", Subscribe(events=("poolmon.worker",), tasks=True, history=True)),
        ("BATCH", Batch(10, 12, ((10, state),), ((11, tasks),))),
        ("ROLLUPS", Rollups((rollup,), until_s=t0 // 1_000_000_000)),
        ("ROLLUPS, packed histograms", Rollups((packed,), until_s=t0 // 1_000_000_000)),
        ("HISTORY_END", HistoryEnd(live_seq=12, rollups_until_s=t0 // 1_000_000_000)),
        ("HEARTBEAT", Heartbeat(ts_ns=t0, next_seq=12, dropped_records=3, dropped_tasks=130)),
        ("COMMAND", Command(7, "resize", {"size": 8})),
        ("REPLY", Reply(7, False, {}, "resize refused: this connection is read-only")),
        ("ERROR", Error("version", "client speaks protocol version 2; this pool speaks 1")),
        ("CLOSE", Close("shutdown")),
    ]


def markdown() -> str:
    """The byte-dump section of docs/PROTOCOL.md."""
    parts = []
    for title, frame in examples():
        parts.append(f"### {title}\n\n`{frame!r}`\n\n```text\n{dump(frame)}\n```\n")
    return "\n".join(parts)
