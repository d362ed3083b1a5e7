"""Where the two ends of a round trip run: the placements the RTT benches compare in.

Why: on a small VM a wake-up on the waker's own CPU costs about a microsecond, one on the
other CPU 20-30 µs (an inter-processor interrupt through the hypervisor). So a round trip's
time depends mostly on where the scheduler put its two ends, and left alone the kernel
chooses differently from run to run: it keeps a ping-pong pair on one CPU when the other is
busy and spreads it when the other is idle (one machine, one hour: 4 µs or 55 µs for the
same ping-pong). A ratio of the pool's round trip to the floor only means something when
both ran in the same placement, so each is measured in three:

* `same`: both ends pinned to one CPU (every thread of both processes);
* `apart`: the two ends pinned to two different CPUs;
* `free`: left to the kernel, and the share of round trips whose two ends ran on different
  CPUs is measured (`crossed`), so a free figure says which placement it mostly was.

How each end waits matters as much, and which way wins depends on the machine's idle
governor. A thread blocked in `recv()` on a Unix stream socket is also woken when the peer
reads what it sent (the kernel's write-space wake-up, not keyed by what it waits for); one
waiting in `poll(POLLIN)` is not. On a VM whose idle CPUs halt at once (this one: cpuidle
`haltpoll` with `guest_halt_poll_ns` 0) that early, spurious wake-up takes the other CPU out
of its halt while the peer still works, and a `recv` ping-pong across CPUs measured 23 µs
against 47 µs for `poll`; with the kernel's default guest halt polling (200 µs) the same pair
measured 26 µs against 10 µs. So the floor is measured both ways (`WAITS`) and is the faster
of the two in each placement (`rtt_floor_{placement}_{recv,poll}_us` say both), and so is the
minimal executor (poolmon.bench.minimal_executor): a floor that waits the slower way would
flatter everything measured against it. `machine_idle()` reports the setting.

`crossed` is measured in every placement (every 16th round trip asks the far end for
`sched_getcpu()` and compares it with ours; those trips are not timed), which also proves
the pinning took. The floor itself (`rtt_floor`) lives here so that `bench pool` and
`bench rtt` share one definition.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import multiprocessing as mp
import os
import select
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PLACEMENTS: Final = ("same", "apart", "free")
"""Every placement, in the order the benches run them."""
FIGURE_NAME: Final = {"same": "same_cpu", "apart": "cross_cpu", "free": "free"}
"""How a placement is spelled inside figure names (`rtt_floor_cross_cpu_us`, ...)."""
WAITS: Final = ("recv", "poll")
"""How both ends of a floor wait for input: blocked in `recv`, or in `poll(POLLIN)` then `recv`."""
SAMPLE_EVERY: Final = 16
"""One round trip in this many asks where the far end ran (and is left out of the timing)."""

_getcpu: Callable[[], int] | None = None
_looked_up = False


def sched_getcpu() -> int:
    """The CPU this thread runs on now (glibc's `sched_getcpu`), or -1 where unknown."""
    global _getcpu, _looked_up
    if not _looked_up:
        _looked_up = True
        try:
            fn = ctypes.CDLL(None, use_errno=True).sched_getcpu
            fn.restype = ctypes.c_int
            fn.argtypes = []
            _getcpu = fn
        except (OSError, AttributeError):
            _getcpu = None
    return -1 if _getcpu is None else int(_getcpu())


def cpus_of(placement: str) -> tuple[int | None, int | None] | None:
    """(our CPU, the far end's CPU) for a placement; None each for `free`.

    None instead of a pair when the placement is impossible here (`apart` with one CPU).
    """
    cpus = sorted(os.sched_getaffinity(0))
    if placement == "free":
        return None, None
    if placement == "same":
        return cpus[0], cpus[0]
    if placement == "apart":
        return (cpus[0], cpus[1]) if len(cpus) >= 2 else None
    raise ValueError(f"unknown placement {placement!r}; expected one of {PLACEMENTS}")


def pin_threads(pid: int, cpus: set[int]) -> dict[int, set[int]]:
    """Pin every thread of process `pid` to `cpus`; returns each thread's previous affinity.

    (`sched_setaffinity(pid)` alone moves only the thread whose id is `pid`: a pool's IO
    thread or a worker's watchdog would stay where it was.)
    """
    before: dict[int, set[int]] = {}
    for tid in _threads(pid):
        try:
            before[tid] = os.sched_getaffinity(tid)
            os.sched_setaffinity(tid, cpus)
        except OSError:
            continue  # the thread ended meanwhile
    return before


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


@contextlib.contextmanager
def placed(placement: str, far_pids: Iterable[int]) -> Iterator[bool]:
    """Pin this process (every thread) and the far processes for `placement`, then restore.

    Yields False, pinning nothing, when the placement is impossible here.
    """
    pair = cpus_of(placement)
    if pair is None:
        yield False
        return
    ours, theirs = pair
    saved: dict[int, set[int]] = {}
    if ours is not None and theirs is not None:
        saved = pin_threads(os.getpid(), {ours})
        for pid in far_pids:
            pin_threads(pid, {theirs})
    try:
        yield True
    finally:
        for tid, cpus in saved.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, cpus)


@dataclass(frozen=True)
class Trips:
    """One placement's run: the round trip's p50 and how many trips crossed CPUs."""

    p50_us: float
    crossed: float
    """Share of sampled round trips whose two ends ran on different CPUs (nan if unknown)."""
    p99_us: float = math.nan

    @staticmethod
    def impossible() -> Trips:
        """A placement this machine cannot give (`apart` with one CPU)."""
        return Trips(math.nan, math.nan)


def share(crossed: int, samples: int) -> float:
    """The share `crossed / samples`; nan when nothing could be sampled (no `sched_getcpu` here)."""
    return crossed / samples if samples else math.nan


def machine_idle() -> dict[str, str]:
    """The idle settings that decide which wait wins (module doc); empty where not exposed."""
    out = {}
    for key, path in (
        ("cpuidle_driver", "/sys/devices/system/cpu/cpuidle/current_driver"),
        ("guest_halt_poll_ns", "/sys/module/haltpoll/parameters/guest_halt_poll_ns"),
    ):
        with contextlib.suppress(OSError):
            out[key] = Path(path).read_text().strip()
    return out


def waiting_recv(sock: socket.socket, wait: str) -> Callable[[int], bytes]:
    """`sock.recv`, or for `wait == "poll"` a recv that first waits in `poll(POLLIN)`."""
    if wait == "recv":
        return sock.recv
    if wait != "poll":
        raise ValueError(f"unknown wait {wait!r}; expected one of {WAITS}")
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    recv, block = sock.recv, poller.poll

    def recv_after_poll(n: int) -> bytes:
        block()
        return recv(n)

    return recv_after_poll


def _echo(sock: socket.socket, other_end: socket.socket, placement: str, wait: str) -> None:
    """The floor's far end: answer every byte with one byte until the socket closes.

    b"?" asks where it runs: the answer is its CPU number (one byte) instead of b"x".
    """
    other_end.close()  # inherited through fork: closing it lets the parent's close end us
    pair = cpus_of(placement)
    if pair is not None and pair[1] is not None:
        pin_threads(os.getpid(), {pair[1]})
    recv, send = waiting_recv(sock, wait), sock.send
    while True:
        b = recv(1)
        if not b:
            return
        if b == b"x":
            send(b"x")
        else:
            send(bytes([max(0, sched_getcpu()) & 0xFF]))


def rtt_floor(k: int, placement: str = "same", wait: str = "recv") -> Trips:
    """The physical floor: a bare one-byte ping-pong between two processes, in a placement.

    Two Python processes on a blocking Unix socketpair, nothing else: each round trip is the
    two wake-ups any pool's round trip must pay, plus two syscalls a side (three with `wait`
    "poll"). `same` pins both ends to one CPU, `apart` to two, `free` leaves them to the
    kernel (module doc). Measured in the same rounds as the pools, so it moves with the
    machine's load as they do.
    """

    def ends(sock: socket.socket) -> tuple[Callable[[], object], Callable[[], int]]:
        recv, send = waiting_recv(sock, wait), sock.send

        def trip() -> object:
            send(b"x")
            return recv(1)

        def where() -> int:
            send(b"?")
            return recv(1)[0]  # one byte: compared with our CPU's low byte

        return trip, where

    return socketpair_trips(functools.partial(_echo, wait=wait), ends, k, placement)


def socketpair_trips(
    serve: Callable[[socket.socket, socket.socket, str], None],
    ends: Callable[[socket.socket], tuple[Callable[[], object], Callable[[], int]]],
    k: int,
    placement: str,
) -> Trips:
    """Time `k` round trips to a forked `serve` over a socketpair, in a placement.

    `ends(sock)` gives the caller's two calls: `trip` (one timed round trip) and `where`
    (the far end's CPU, asked every 16th trip, untimed). 200 untimed trips warm up first.
    """
    if cpus_of(placement) is None:
        return Trips.impossible()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child = mp.get_context("fork").Process(
        target=serve, args=(theirs, ours, placement), daemon=True
    )
    child.start()
    theirs.close()
    trip, where = ends(ours)
    clock = time.perf_counter
    lat = []
    samples = crossed = 0
    with placed(placement, []):
        try:
            for i in range(200 + k):
                if i % SAMPLE_EVERY == SAMPLE_EVERY - 1:
                    far = where()
                    me = sched_getcpu()
                    if me >= 0 and far >= 0:
                        samples += 1
                        crossed += (far & 0xFF) != (
                            me & 0xFF
                        )  # the floor's far end answers one byte
                    continue
                t0 = clock()
                trip()
                if i >= 200:
                    lat.append(clock() - t0)
        finally:
            ours.close()
            child.join(10)
    lat.sort()
    return Trips(lat[len(lat) // 2] * 1e6, share(crossed, samples))


class CrossCount:
    """Where a pool's round trips ran: every 16th one asks the worker for its CPU, untimed."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool
        self.samples = 0
        self.crossed = 0

    def trips(self, k: int) -> Iterator[int]:
        """Yield `k` times (a round trip to time each); sample where the worker ran between."""
        for i in range(k):
            if i % (SAMPLE_EVERY - 1) == SAMPLE_EVERY - 2:
                self.sample()
            yield i

    def sample(self) -> None:
        """One round trip of `where`: count whether the worker ran on another CPU than ours."""
        from poolmon.bench.tasks import where

        me = sched_getcpu()
        far = self.pool.submit(where).result()
        if me >= 0 and far >= 0:
            self.samples += 1
            self.crossed += far != me

    @property
    def made(self) -> int:
        """Sampling round trips made so far (they count in per-round-trip CPU figures)."""
        return self.samples

    def share(self) -> float:
        """The share of sampled round trips that crossed CPUs (nan if none could be sampled)."""
        return share(self.crossed, self.samples)
