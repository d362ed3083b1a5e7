"""The least any CPython executor must do per round trip: the second floor under the pool.

Why: `placement.rtt_floor` is the physical floor, a bare one-byte ping-pong. No Python
executor can reach it, because each task must also be encoded, decoded, called and handed
back through a `concurrent.futures.Future`, and on this VM CPython's share of that is larger
than the two wake-ups themselves. So the RTT benches also time this: the smallest executor
that keeps the contract, with nothing poolmon adds (no supervision, no IO thread, no
telemetry, no pipelining, no crash bookkeeping):

* the caller makes a `Future`, remembers it by sequence number, sends `msgpack((seq, fid,
  args))` on a blocking Unix socketpair; to wait, it reads, decodes every answer and
  `set_result`s its future;
* the far end (a forked process) reads, decodes, calls `FUNCTIONS[fid](*args)` and sends
  `msgpack((seq, 0, result))`.

Both ends wait the way the floor's do, in `recv` or in `poll` (placement.WAITS: which one is
faster depends on the machine), and the faster is its figure. Measured in the same placements
and rounds as the floor and the pool, it splits the pool's
distance to the floor in two: CPython's unavoidable part (this over the floor) and poolmon's
own (the pool over this). If this alone is above a goal stated against the floor, no
design of a Python pool can meet that goal on the machine.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import msgpack

from poolmon.bench.placement import (
    Trips,
    cpus_of,
    pin_threads,
    sched_getcpu,
    socketpair_trips,
    waiting_recv,
)


def _stamp() -> int:
    return 1


FUNCTIONS = (_stamp, sched_getcpu)
"""What the far end can call, by index: the timed trivial task, and "where do you run"."""
_WHERE = 1


def _serve(sock: socket.socket, other_end: socket.socket, placement: str, wait: str) -> None:
    """The far end: decode, call, encode, answer, until the socket closes."""
    other_end.close()  # inherited through fork: closing it lets the parent's close end us
    pair = cpus_of(placement)
    if pair is not None and pair[1] is not None:
        pin_threads(os.getpid(), {pair[1]})
    unpacker = msgpack.Unpacker(use_list=False)
    pack = msgpack.Packer().pack
    recv, send, functions = waiting_recv(sock, wait), sock.send, FUNCTIONS
    while True:
        data = recv(65536)
        if not data:
            return
        unpacker.feed(data)
        for seq, fid, args in unpacker:
            send(pack((seq, 0, functions[fid](*args))))


class MinimalExecutor:
    """The caller's half: `submit` and `result`, nothing else (see the module doc)."""

    def __init__(self, sock: socket.socket, wait: str = "recv") -> None:
        self.sock = sock
        self.recv = waiting_recv(sock, wait)
        self.pack = msgpack.Packer().pack
        self.unpacker = msgpack.Unpacker(use_list=False)
        self.waiting: dict[int, Future[Any]] = {}
        self.seq = 0

    def submit(self, fid: int, args: tuple[Any, ...] = ()) -> Future[Any]:
        """Send one call; its answer completes the returned future."""
        self.seq += 1
        fut: Future[Any] = Future()
        self.waiting[self.seq] = fut
        self.sock.send(self.pack((self.seq, fid, args)))
        return fut

    def result(self, fut: Future[Any]) -> Any:
        """Read answers until `fut` is done, completing each one's future; then its result."""
        while not fut.done():
            self.unpacker.feed(self.recv(65536))
            for seq, _status, value in self.unpacker:
                self.waiting.pop(seq).set_result(value)
        return fut.result()


def rtt_minimal(k: int, placement: str = "same", wait: str = "recv") -> Trips:
    """`k` timed round trips of the minimal executor in a placement (as `rtt_floor`)."""

    def ends(sock: socket.socket) -> tuple[Callable[[], object], Callable[[], int]]:
        ex = MinimalExecutor(sock, wait)
        return (lambda: ex.result(ex.submit(0))), (lambda: int(ex.result(ex.submit(_WHERE))))

    return socketpair_trips(functools.partial(_serve, wait=wait), ends, k, placement)
