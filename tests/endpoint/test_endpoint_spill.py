"""A slow monitor's backlog: copied into mapped blocks, sent in order, given back to the OS."""

from __future__ import annotations

import random
import socket
import threading

import pytest

from poolmon.bench.memory_probe import glibc_figures, smaps_figures
from poolmon.runtime.endpoint.connection import Connection
from poolmon.runtime.endpoint.spill import BIG_PART, SPILL_AFTER

MIB = 1024 * 1024


def _drain(conn: Connection, peer: socket.socket, expect: int) -> bytes:
    """Read everything `conn` sends while flushing it, as the server loop would."""
    got = bytearray()

    def read() -> None:
        while len(got) < expect:
            data = peer.recv(1 << 20)
            if not data:
                return
            got.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    while not conn.flush():
        reader.join(0.001)
    reader.join(10)
    return bytes(got)


def test_a_backlog_arrives_whole_and_in_order() -> None:
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        conn = Connection(a, 1, 1, 0, 1 << 20)
        rng = random.Random(7)
        parts = [rng.randbytes(rng.randint(1, 9000)) for _ in range(1500)]
        parts.insert(700, rng.randbytes(BIG_PART + 5))  # a big frame goes as it is, in place
        for i, part in enumerate(parts):
            conn.queue(part)
            if i % 100 == 0:
                conn.flush()  # the socket takes some, as in the server loop; the rest waits
        assert conn.spill.blocks >= 2
        sent = _drain(conn, b, sum(map(len, parts)))
        assert sent == b"".join(parts)
        assert conn.out_bytes == 0
        assert not conn.out
        assert not conn.spill.open
    finally:
        a.close()
        b.close()


def test_a_short_queue_is_not_copied() -> None:
    a, b = socket.socketpair()
    try:
        conn = Connection(a, 1, 1, 0, 1 << 20)
        part = b"x" * 5000
        conn.queue(part)
        assert conn.out[0] is part
        assert conn.spill.blocks == 0
        assert conn.out_bytes < SPILL_AFTER
    finally:
        a.close()
        b.close()


@pytest.mark.skipif(not glibc_figures(), reason="needs glibc's mallinfo2")
def test_a_backlog_lives_outside_the_heap_and_goes_back_when_sent() -> None:
    """16 MiB of small frames queued: the C heap does not hold them, and the OS gets them back.

    The margins leave room for other threads of the test process allocating meanwhile.
    Without the spill the frames stay in the heap (mallinfo's in-use grows by 16 MiB) and,
    once sent, leave free heap that glibc keeps (docs/BENCHMARKS.md, memory).
    """
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        conn = Connection(a, 1, 1, 0, 1 << 20)
        in_use0 = glibc_figures()["glibc_in_use"]
        anon0 = smaps_figures()["rss_anon"]
        total = 0
        while total < 16 * MIB:
            conn.queue(bytes([total % 251]) * 7000)  # a fresh frame, freed after queueing
            total += 7000
        assert glibc_figures()["glibc_in_use"] - in_use0 < 6
        assert smaps_figures()["rss_anon"] - anon0 > 12  # in the mapped blocks
        _drain(conn, b, total)
        assert smaps_figures()["rss_anon"] - anon0 < 6  # unmapped once sent
    finally:
        a.close()
        b.close()
