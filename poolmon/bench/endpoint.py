"""`python -m poolmon.bench endpoint`: what the monitor endpoint delivers and what it costs.

Two halves, side by side and round-robin, medians quoted:

* **stream**: task events per second from the pool process to one monitor process through the
  real endpoint (telemetry handler -> inbox -> server thread -> socket -> `MonitorClient` ->
  decoded `TaskBatch`es), one core each side; beside it the peer design the reference measured
  at ~0.55-1.1 M/s: one msgpack map per event over the same kind of socket, decoded by a
  streaming `Unpacker`.
* **pool**: throughput of a real `poolmon.Pool` (2 workers, trivial tasks) with the endpoint
  and 0, 1 or 4 monitors reading, and with one monitor that never reads.
* **rollup** and **cost** (`poolmon.bench.endpoint_cost`): what the endpoint costs a pool
  nobody watches: `figures.rollup_ns_per_task` (the history path's CPU per task) and the pool
  with the endpoint serving vs no endpoint, beside a counting batch handler that separates the
  pool's own per-task telemetry from the endpoint's share.

Ratios: ``columnar_vs_per_event_maps`` (stream), ``throughput_stalled_monitor_vs_none``
(target >= 0.97; "none" = endpoint running, nobody attached), ``throughput_1_monitor_vs_none``,
``throughput_4_monitors_vs_none``, ``throughput_endpoint_vs_no_endpoint`` (target >= 0.9),
``throughput_count_only_vs_no_endpoint`` and ``throughput_endpoint_vs_count_only``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgpack

from poolmon.bench import endpoint_cost
from poolmon.bench.common import machine, median, round_robin
from poolmon.core.events import TaskBatch
from poolmon.core.protocol import Batch, Heartbeat, HistoryEnd
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry

_ROWS = 512  # rows per TaskBatch in the stream half (a busy pool's read batch)
_POOL_OUT_BUFFER = 256 * 1024  # small, so the stalled monitor is saturated within each run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options: which half, how many repetitions."""
    parser.add_argument(
        "--part", choices=("all", "stream", "pool", "rollup", "cost"), default="all"
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")


class _Control:
    """A minimal `PoolControl` for the stream half (no worker processes needed)."""

    name = "bench-endpoint"
    started_at_ns = time.time_ns()

    def stats(self) -> dict[str, Any]:
        return {}

    def resize(self, size: int) -> None:
        """Not used by the benchmark."""

    def set_task_timeout(self, seconds: float | None) -> None:
        """Not used by the benchmark."""

    def set_health_check_interval(self, seconds: float) -> None:
        """Not used by the benchmark."""

    def recycle_worker(self, worker_id: int) -> None:
        """Not used by the benchmark."""


def _batch(rows: int, start: int) -> TaskBatch:
    now = time.time_ns()
    return TaskBatch.from_rows(
        [(start + i, i % 8, f"op{i % 4}", now, 1000 + i, 50, 0, "") for i in range(rows)]
    )


# ------------------------------------------------------------------ stream half
def _columnar_reader(path: str, want: int, out: Connection) -> None:
    """Monitor process: count task rows until `want`, report (rows, seconds, lost)."""
    client = MonitorClient(path, history=False, events=(), timeout_s=10)
    client.connect()
    out.send("ready")
    rows, first = 0, 0.0
    last = time.monotonic()
    while rows < want and time.monotonic() - last < 5.0:
        frame = client.recv(1.0)
        if isinstance(frame, Heartbeat) and frame.dropped_records:
            break
        if isinstance(frame, Batch):
            last = time.monotonic()
            if not first:
                first = time.perf_counter()
            rows += sum(len(b) for _, b in frame.tasks)
    out.send((rows, time.perf_counter() - first, client.lost_records))
    client.close()


def _stream_columnar(n_rows: int) -> float:
    """Events per second through the real endpoint to one monitor process."""
    folder = tempfile.mkdtemp(prefix="pmb", dir="/tmp")
    telemetry = Telemetry()
    server = EndpointServer(
        _Control(), telemetry, path=Path(folder) / "b.sock", out_buffer_bytes=32 << 20
    ).start()
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_columnar_reader, args=(str(server.path), n_rows, theirs))
    proc.start()
    try:
        assert ours.recv() == "ready"
        batches = [_batch(_ROWS, i * _ROWS) for i in range(64)]
        sent = 0
        while sent < n_rows:
            # Never outrun the monitor: a loss would end the run. (A real pool's batch rate
            # is far lower; here the producer only keeps both queues from overflowing.)
            while server.backlog > 256 or server.queued_bytes > 8 << 20:
                time.sleep(0.0002)
            telemetry.emit_tasks(batches[(sent // _ROWS) % 64], {})
            sent += _ROWS
        rows, seconds, lost = ours.recv()
        if lost or rows < n_rows:
            raise RuntimeError(f"stream benchmark lost records: got {rows}/{n_rows}")
        return float(rows / seconds)
    finally:
        proc.join(10)
        server.close()


def _dict_reader(sock: socket.socket, want: int, out: Connection) -> None:
    unpacker = msgpack.Unpacker(raw=False)
    got, first = 0, 0.0
    while got < want:
        data = sock.recv(256 * 1024)
        if not data:
            break
        if not first:
            first = time.perf_counter()
        unpacker.feed(data)
        for _ in unpacker:
            got += 1
    out.send((got, time.perf_counter() - first))


def _stream_per_event_maps(n_rows: int) -> float:
    """The peer: one msgpack map per task event, coalesced writes, streaming Unpacker."""
    ctx = mp.get_context("spawn")
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_dict_reader, args=(b, n_rows, theirs))
    proc.start()
    b.close()
    packer = msgpack.Packer()
    rows = list(_batch(_ROWS, 0).rows())
    sent = 0
    buf: list[bytes] = []
    while sent < n_rows:
        for task_id, worker, op, start, dur, wait, status, err in rows:
            buf.append(
                packer.pack(
                    {
                        "task_id": task_id,
                        "worker_id": worker,
                        "op": op,
                        "start_ns": start,
                        "duration_ns": dur,
                        "wait_ns": wait,
                        "status": status,
                        "error_type": err,
                    }
                )
            )
        a.sendall(b"".join(buf))
        buf.clear()
        sent += len(rows)
    got, seconds = ours.recv()
    proc.join(10)
    a.close()
    return float(got / seconds)


def run_stream(n_rows: int, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Stream half: columnar endpoint vs per-event maps, round-robin."""
    results = round_robin(
        {
            "columnar": lambda: _stream_columnar(n_rows),
            "per_event_maps": lambda: _stream_per_event_maps(n_rows),
        },
        reps,
    )
    col, peer = median(results["columnar"]), median(results["per_event_maps"])
    return (
        {"events_per_s": round(col), "per_event_maps_events_per_s": round(peer)},
        {"columnar_vs_per_event_maps": round(col / peer, 3)},
    )


# ------------------------------------------------------------------ pool half
def _monitor_host(path: str, commands: Connection) -> None:
    """Helper process holding monitor connections: readers (threads) or one stalled peer."""
    clients: list[MonitorClient] = []
    raw: list[socket.socket] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def read(client: MonitorClient) -> None:
        while not stop.is_set():
            try:
                client.recv(0.1)
            except Exception:
                return

    while True:
        cmd = commands.recv()
        if cmd[0] == "quit":
            break
        if cmd[0] == "attach":
            _, n, stalled = cmd
            if stalled:
                from poolmon.core.protocol import Hello, Subscribe, encode

                sock = socket.socket(socket.AF_UNIX)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect(path)
                sock.sendall(encode(Hello(client="stalled")) + encode(Subscribe()))
                raw.append(sock)
            for _ in range(n):
                client = MonitorClient(path, client="bench-reader")
                client.connect()
                while not isinstance(client.recv(5), HistoryEnd):
                    pass
                clients.append(client)
                stop.clear()
                t = threading.Thread(target=read, args=(client,), daemon=True)
                t.start()
                threads.append(t)
        elif cmd[0] == "detach":
            stop.set()
            for t in threads:
                t.join()
            for client in clients:
                client.close()
            for sock in raw:
                sock.close()
            clients.clear()
            raw.clear()
            threads.clear()
        commands.send("ok")


def run_pool(n_tasks: int, reps: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Pool half: throughput with the endpoint and 0/1/4 monitors reading, or one stalled."""
    from poolmon import Pool
    from poolmon.bench.tasks import ident

    telemetry = Telemetry()
    pool = Pool(2, name="bench-endpoint", monitor=False, telemetry=telemetry)
    folder = tempfile.mkdtemp(prefix="pmb", dir="/tmp")
    path = Path(folder) / "pool.sock"
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    host = ctx.Process(target=_monitor_host, args=(str(path), theirs), daemon=True)
    host.start()
    server: EndpointServer | None = None
    stats: dict[str, Any] = {}

    def throughput() -> float:
        started = time.perf_counter()
        futures = [pool.submit(ident, i) for i in range(n_tasks)]
        for f in futures:
            f.result()
        return n_tasks / (time.perf_counter() - started)

    def contender(monitors: int, stalled: bool) -> Any:
        def run() -> float:
            nonlocal server
            server = EndpointServer(
                pool, telemetry, path=path, out_buffer_bytes=_POOL_OUT_BUFFER
            ).start()
            ours.send(("attach", monitors, stalled))
            ours.recv()
            time.sleep(0.05)  # the pool picks up the new listener on its next tick
            warm = [pool.submit(ident, i) for i in range(n_tasks // 2)]  # fills a stalled queue
            for f in warm:
                f.result()
            try:
                return throughput()
            finally:
                if server is not None:
                    stats[f"dropped_{monitors}_{stalled}"] = server.internals()["events_dropped"]
                    ours.send(("detach",))
                    ours.recv()
                    server.close()
                    server = None

        return run

    try:
        for f in [pool.submit(ident, i) for i in range(2000)]:
            f.result()
        results = round_robin(
            {
                "none": contender(0, False),
                "one": contender(1, False),
                "four": contender(4, False),
                "stalled": contender(0, True),
            },
            reps,
        )
    finally:
        ours.send(("quit",))
        host.join(10)
        pool.shutdown()
    med = {k: median(v) for k, v in results.items()}
    figures: dict[str, Any] = {f"pool_tasks_per_s_{k}": round(v, 1) for k, v in med.items()} | {
        "stalled_monitor_events_dropped": stats.get("dropped_0_True", 0)
    }
    ratios = {
        "throughput_stalled_monitor_vs_none": round(med["stalled"] / med["none"], 4),
        "throughput_1_monitor_vs_none": round(med["one"] / med["none"], 4),
        "throughput_4_monitors_vs_none": round(med["four"] / med["none"], 4),
    }
    return figures, ratios


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected halves and return the suite's result dict."""
    quick = bool(getattr(args, "quick", False))
    part = getattr(args, "part", "all")
    reps = args.reps or (2 if quick else 5)
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    if part in ("all", "stream"):
        f, r = run_stream(200_000 if quick else 2_000_000, reps)
        figures |= f
        ratios |= r
    if part in ("all", "pool"):
        f, r = run_pool(20_000 if quick else 100_000, reps)
        figures |= f
        ratios |= r
    if part in ("all", "rollup"):
        figures |= endpoint_cost.run_rollup(quick, reps)
    if part in ("all", "cost"):
        f, r = endpoint_cost.run_cost(20_000 if quick else 100_000, reps)
        figures |= f
        ratios |= r
    return {
        "suite": "endpoint",
        "machine": machine(),
        "pid": os.getpid(),
        "figures": figures,
        "ratios": ratios,
    }
