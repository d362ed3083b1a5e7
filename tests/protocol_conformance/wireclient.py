"""A monitor client written from docs/PROTOCOL.md alone: raw socket, msgpack, the standard library.

Why it exists: the conformance tests must show that a stranger can implement the protocol from
the spec, so this half never imports poolmon (test_wire_client_is_independent checks its
imports). Everything here is the spec's wording turned into code, with the section it comes
from: framing (section 2), frame type numbers (section 2's table), task columns (section 4) and
the rollup histogram arithmetic (section 5, "Rollup histograms"). It also runs as a script, for
the peer-of-another-uid test, which starts it under another user:
`python wireclient.py SOCKET_PATH` prints the first frame the server sends as JSON.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import sys
import time
from typing import Any

import msgpack

HELLO, WELCOME, SUBSCRIBE, BATCH, ROLLUPS, HISTORY_END = 1, 2, 3, 4, 5, 6
HEARTBEAT, COMMAND, REPLY, ERROR, CLOSE = 7, 8, 9, 10, 11
NAMES = {
    1: "HELLO",
    2: "WELCOME",
    3: "SUBSCRIBE",
    4: "BATCH",
    5: "ROLLUPS",
    6: "HISTORY_END",
    7: "HEARTBEAT",
    8: "COMMAND",
    9: "REPLY",
    10: "ERROR",
    11: "CLOSE",
}
COLUMNS = (
    "task_id",
    "worker_id",
    "op",
    "start_ns",
    "duration_ns",
    "wait_ns",
    "status",
    "error_type",
)
MIN_MAX_FRAME_SIZE = 65_536

Frame = tuple[int, dict[str, Any]]


def frame_bytes(ftype: int, fields: dict[str, Any]) -> bytes:
    """Section 2: uint32 big-endian length, then the msgpack array [type, fields]."""
    body = msgpack.packb([ftype, fields], use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def hello(**extra: Any) -> dict[str, Any]:
    """A valid HELLO's fields (section 3), with `extra` keys added or replaced."""
    return {"magic": "poolmon", "version": 1, "client": "conformance", **extra}


class Wire:
    """One connection: send frames or raw bytes, receive whole frames (and their sizes)."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:  # the listen backlog is full: the server is accepting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.buf = b""
        self.sizes: list[int] = []
        """Body length of every frame received, in order."""
        self.eof = False

    def send(self, ftype: int, fields: dict[str, Any]) -> None:
        self.sock.sendall(frame_bytes(ftype, fields))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, timeout: float = 10.0) -> Frame | None:
        """The next frame, or None at EOF (a frame cut short by EOF is an AssertionError)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                (length,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + length:
                    body, self.buf = self.buf[4 : 4 + length], self.buf[4 + length :]
                    self.sizes.append(length)
                    doc = msgpack.unpackb(body, raw=False, strict_map_key=True)
                    if not (isinstance(doc, list) and len(doc) == 2):
                        raise AssertionError(f"frame body is not [type, fields]: {doc!r}")
                    if not (isinstance(doc[0], int) and isinstance(doc[1], dict)):
                        raise AssertionError(f"frame body is not [int, map]: {doc!r}")
                    return doc[0], doc[1]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no whole frame within {timeout} s ({len(self.buf)} B held)")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except ConnectionResetError:
                data = b""
            if not data:
                assert not self.buf, f"stream ended inside a frame ({len(self.buf)} bytes)"
                self.eof = True
                return None
            self.buf += data

    def expect(
        self, ftype: int, timeout: float = 10.0, skip: tuple[int, ...] = ()
    ) -> dict[str, Any]:
        """The next frame not of a type in `skip`, which must be `ftype`; its fields."""
        while True:
            frame = self.recv(timeout)
            assert frame is not None, f"EOF while waiting for {NAMES[ftype]}"
            if frame[0] in skip:
                continue
            assert frame[0] == ftype, (
                f"expected {NAMES[ftype]}, got {NAMES.get(frame[0])} {frame[1]}"
            )
            return frame[1]

    def handshake(self, **extra: Any) -> dict[str, Any]:
        """HELLO, then WELCOME's fields."""
        self.send(HELLO, hello(**extra))
        return self.expect(WELCOME)

    def command(self, cid: int, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send COMMAND and return the REPLY with the same id (other frames are skipped)."""
        self.send(COMMAND, {"id": cid, "name": name, "args": args or {}})
        while True:
            fields = self.expect(REPLY, skip=(BATCH, HEARTBEAT, ROLLUPS, HISTORY_END))
            if fields["id"] == cid:
                return fields

    def until_eof(self, timeout: float = 10.0) -> list[Frame]:
        """Every frame until the server closes the connection."""
        frames = []
        while (frame := self.recv(timeout)) is not None:
            frames.append(frame)
        return frames

    def close(self) -> None:
        self.sock.close()


def task_rows(record: list[Any]) -> list[dict[str, Any]]:
    """Section 4: a task record `[seq, rows, ops, error_types, columns]` as one dict per row."""
    _, rows, ops, error_types, blob = record
    assert isinstance(blob, bytes)
    assert len(blob) == rows * 64
    cols = struct.unpack(f"<{rows * 8}q", blob)
    out = []
    for i in range(rows):
        row = {name: cols[c * rows + i] for c, name in enumerate(COLUMNS)}
        row["op_name"] = ops[row["op"]]
        row["error_name"] = error_types[row["error_type"]]
        out.append(row)
    return out


# ---------------------------------------------------------------- rollup histograms (section 5)
GAMMA = (1 + 0.01) / (1 - 0.01)
MIN_NS = 100
N_BUCKETS = 1280


def bucket_of(value_ns: float) -> int:
    """Bucket 0: values <= 100 ns; bucket b >= 1: (100 * GAMMA**(b-1), 100 * GAMMA**b]."""
    if value_ns <= MIN_NS:
        return 0
    return min(math.ceil(math.log(value_ns / MIN_NS) / math.log(GAMMA)), N_BUCKETS - 1)


def bucket_value(b: int) -> float:
    """A bucket's representative value: 2 * 100 * GAMMA**b / (GAMMA + 1)."""
    return 2.0 * MIN_NS * GAMMA**b / (GAMMA + 1.0)


def merge(hists: list[list[Any]]) -> list[Any]:
    """Several `[buckets, counts, sum_ns, min_ns, max_ns]` as one (empty ones skipped)."""
    counts: dict[int, int] = {}
    total, lo, hi = 0.0, math.inf, -math.inf
    for buckets, cnts, sum_ns, min_ns, max_ns in hists:
        if not cnts:
            continue
        for b, c in zip(buckets, cnts, strict=True):
            counts[b] = counts.get(b, 0) + c
        total += sum_ns
        lo, hi = min(lo, min_ns), max(hi, max_ns)
    keys = sorted(counts)
    return [keys, [counts[k] for k in keys], total, lo, hi]


def percentile(hist: list[Any], q: float) -> float | None:
    """Section 5's recipe: rank floor(q * (n - 1)), its bucket, the bucket's value, clamped."""
    buckets, counts, _, min_ns, max_ns = hist
    n = sum(counts)
    if n == 0:
        return None
    rank = math.floor(q * (n - 1))
    seen = 0
    for b, c in zip(buckets, counts, strict=True):
        seen += c
        if seen > rank:
            value = float(min_ns) if b == 0 else bucket_value(b)
            return min(max(value, min_ns), max_ns)
    raise AssertionError("counts do not add up")


def exact_percentile(values: list[int], q: float) -> int:
    """The order statistic the estimate approximates: sorted(values)[floor(q * (n - 1))]."""
    return sorted(values)[math.floor(q * (len(values) - 1))]


if __name__ == "__main__":
    wire = Wire(sys.argv[1])
    wire.send(HELLO, hello())
    got = wire.recv()
    print(json.dumps(None if got is None else [got[0], got[1]], default=repr))
