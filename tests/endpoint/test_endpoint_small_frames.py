"""A client announcing a small `max_frame_size` gets every record, in frames it accepts.

The client half speaks the wire alone (a raw socket and msgpack, as docs/PROTOCOL.md
describes it): no poolmon code decodes what the server sends.
"""

from __future__ import annotations

import socket
import struct
import time
from array import array
from pathlib import Path
from typing import Any

import msgpack

from poolmon.bench.tasks import ident
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry

HELLO, WELCOME, SUBSCRIBE, BATCH, ROLLUPS, HISTORY_END, HEARTBEAT, ERROR = 1, 2, 3, 4, 5, 6, 7, 10
SMALL = 64 * 1024


class WireClient:
    """Frames over a Unix socket: 4-byte big-endian length, then msgpack [type, fields]."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(10)
        self.buf = b""
        self.largest = 0

    def send(self, kind: int, fields: dict[str, Any]) -> None:
        body = msgpack.packb([kind, fields], use_bin_type=True)
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def recv(self) -> tuple[int, dict[str, Any]]:
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + n:
                    body, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
                    self.largest = max(self.largest, n)
                    kind, fields = msgpack.unpackb(body, raw=False, strict_map_key=False)
                    return kind, fields
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("server closed")
            self.buf += data

    def hello(self, max_frame_size: int) -> tuple[int, dict[str, Any]]:
        self.send(
            HELLO,
            {
                "magic": "poolmon",
                "version": 1,
                "client": "wire-test",
                "max_frame_size": max_frame_size,
            },
        )
        return self.recv()


def _pool(short_dir: Path) -> tuple[Pool, str]:
    path = str(short_dir / "p.sock")
    return Pool(2, monitor=path, telemetry=Telemetry()), path


def test_a_max_frame_size_below_the_minimum_is_refused(short_dir: Path) -> None:
    pool, path = _pool(short_dir)
    try:
        client = WireClient(path)
        kind, fields = client.hello(SMALL - 1)
        assert kind == ERROR
        assert fields["code"] == "protocol"
        assert "minimum of 65536" in fields["message"]
        ok = WireClient(path)
        assert ok.hello(SMALL)[0] == WELCOME
    finally:
        pool.shutdown()


def test_large_task_batches_are_split_to_fit_64_kib(short_dir: Path) -> None:
    pool, path = _pool(short_dir)
    try:
        client = WireClient(path)
        assert client.hello(SMALL)[0] == WELCOME
        client.send(SUBSCRIBE, {"events": [], "tasks": True, "history": False})
        assert client.recv()[0] == HISTORY_END
        n = 5050
        futures = [pool.submit(ident, i) for i in range(n)]  # batches of up to 4,096 rows
        assert [f.result(30) for f in futures] == list(range(n))
        seen: set[int] = set()
        dropped = -1
        end = time.monotonic() + 30
        while (len(seen) < n or dropped < 0) and time.monotonic() < end:
            kind, fields = client.recv()
            if kind == BATCH:
                for _seq, rows, _ops, _errs, columns in fields["tasks"]:
                    task_ids = array("q")
                    task_ids.frombytes(columns[: rows * 8])  # the first column: task_id
                    seen.update(task_ids)
            elif kind == HEARTBEAT and len(seen) >= n:
                dropped = fields["dropped_tasks"]
        assert len(seen) == n, f"{n - len(seen)} of {n} task rows never arrived"
        assert dropped == 0
        assert client.largest <= SMALL
        # a late monitor's backfill (rollups and held rows) fits as well
        late = WireClient(path)
        assert late.hello(SMALL)[0] == WELCOME
        late.send(SUBSCRIBE, {"events": [""], "tasks": True, "history": True})
        kinds = set()
        while (kind := late.recv()[0]) != HISTORY_END:
            kinds.add(kind)
        assert BATCH in kinds
        assert late.largest <= SMALL
    finally:
        pool.shutdown()
