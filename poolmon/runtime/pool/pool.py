"""`poolmon.Pool`: a fast, supervised `concurrent.futures.Executor` of worker processes.

Existing ProcessPoolExecutor code moves over by changing one line. What it adds: a crash
fails only the task that was running (naming the worker, pid and exit status), per-task
timeouts that kill and replace the worker, a bounded queue, sessions with affinity, resize at
runtime, recycling by task count or memory, retries for idempotent work, `stats()`, and
telemetry for every step. See docs/POOL.md for the guarantees.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.advisor.autotune import AutotuneConfig
from poolmon.core.errors import ConfigError
from poolmon.runtime.config.pool_defaults import with_config_defaults
from poolmon.runtime.pool import closing
from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.config import (
    PoolConfig,
    autotune_config,
    check_int,
    check_not_bootstrapping,
    check_seconds,
    default_size,
    resolve_start_method,
)
from poolmon.runtime.pool.control import PoolControl
from poolmon.runtime.pool.emitter import PoolEmitter
from poolmon.runtime.pool.engine import Engine
from poolmon.runtime.pool.errors import InitializerFailed, PoolClosed
from poolmon.runtime.pool.future import PENDING, PoolFuture
from poolmon.runtime.pool.options import Affinity, BoundPool, TaskOptions
from poolmon.runtime.pool.submitting import SLOW_PACK, SubmitSupport

if TYPE_CHECKING:
    from poolmon.runtime.telemetry import Telemetry

_new = object.__new__
_names = itertools.count(1)


class Pool(PoolControl, SubmitSupport, Executor):
    """A pool of worker processes; `submit`, `map` and `shutdown` as in concurrent.futures.

    Args:
        max_workers: Workers to start (default: the CPUs this process may use).
        mp_context: As for ProcessPoolExecutor: a multiprocessing context, whose start method
            the workers use (the same as `start_method`; a context with another start
            method is refused).
        initializer / initargs: `initializer(*initargs)` runs in every worker before its
            first task, replacements included. If it raises, the pool is broken: queued
            and later tasks fail with `InitializerFailed`, and no worker is restarted.
        max_tasks_per_child: ProcessPoolExecutor's name for `max_tasks_per_worker`.
        name: Shown by monitors (default ``pool-<pid>-<n>``).
        min_size / max_size: Bounds for `resize` (default 1 / max(max_workers, 4 x CPUs)).
        start_method: "forkserver" (default, on every Python version: the pool runs an IO
            thread, and forking a threaded process is unsafe), "spawn" or "fork"; None =
            that of `mp_context`, else "forkserver".
        max_queue: Tasks that may wait for a worker; None = unbounded.
        on_queue_full: "raise" (QueueFull at once) or "block" (wait up to queue_timeout).
        queue_timeout: Seconds a blocked submit waits before QueueFull; None = forever.
        task_timeout: Default seconds a task may run; None = no limit.
        health_check_interval / health_check_timeout / health_check_max_misses: Heartbeats
            are checked every interval; older than timeout is a miss; that many misses in a
            row and the worker is killed and replaced.
        max_tasks_per_worker: Recycle a worker after this many tasks.
        max_memory_per_worker: Recycle a worker whose RSS exceeds this many bytes.
        memory_check_interval: Seconds between RSS samples.
        session_affinity: Default mode for session-tagged work: "hint" or "strict".
        session_ttl: Seconds an unused session binding lives.
        retry_backoff: First retry delay in seconds (doubles per attempt, at most 5 s).
        max_in_flight: Most tasks sent ahead to one worker; the pool adapts the actual depth
            to about 2 ms of work, so this cap only matters for tiny tasks.
        flush_interval: Longest a worker holds finished results before sending them.
        start_timeout: Seconds a worker may take to start before it is replaced.
        monitor: True serves the monitor endpoint at the default path, a path (str or
            `pathlib.Path`) at that path, False not at all.
        resource_interval: Seconds between resource samples of the pool's processes (the
            resource sampler service), or None for none.
        alerts: None evaluates the built-in alert rule pack, a path that rule file (and its
            notification channels), False no alerting. Alerts run in the monitor endpoint's
            thread, so `monitor=False` means no alerting (docs/ALERTS_RUNTIME.md).
        alert_state_dir: Folder of the alert state file (acks, silences, history kept across
            restarts); None: `$XDG_STATE_HOME/poolmon/<name>/`.
        history_seconds / history_raw_mib: What the monitor endpoint keeps for monitors that
            attach late: per-second rollups of the last `history_seconds` (about 3.5 KB a second
            for 20 operations), and at most `history_raw_mib` MiB of raw task rows
            (docs/PROTOCOL.md §5).
        telemetry: Where events go (default: `poolmon.telemetry`'s process-wide registry).
        autotune: True (default bounds) or an `AutotuneConfig`: let the pool resize itself,
            one validated change at a time (docs/ADVISOR.md); needs the monitor endpoint.
            False: off until a monitor turns it on.

    Every default above can be changed in poolmon.toml's `[pool]` and `[alerts]` sections or by
    `POOLMON_POOL_<ARG>` variables (docs/FLEET.md); an argument given here always wins.
    """

    @with_config_defaults  # poolmon.toml [pool]/[alerts] for what is not passed here
    def __init__(
        self,
        max_workers: int | None = None,
        mp_context: BaseContext | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: Iterable[Any] = (),
        *,
        max_tasks_per_child: int | None = None,
        name: str | None = None,
        min_size: int = 1,
        max_size: int | None = None,
        start_method: str | None = None,
        max_queue: int | None = None,
        on_queue_full: Literal["raise", "block"] = "raise",
        queue_timeout: float | None = None,
        task_timeout: float | None = None,
        health_check_interval: float = 0.5,
        health_check_timeout: float = 2.0,
        health_check_max_misses: int = 3,
        max_tasks_per_worker: int | None = None,
        max_memory_per_worker: int | None = None,
        memory_check_interval: float = 1.0,
        session_affinity: Affinity = "hint",
        session_ttl: float = 300.0,
        retry_backoff: float = 0.05,
        max_in_flight: int = 1024,
        flush_interval: float = 0.001,
        start_timeout: float = 30.0,
        monitor: bool | str | os.PathLike[str] = True,
        resource_interval: float | None = 1.0,
        telemetry: Telemetry | None = None,
        alerts: bool | str | os.PathLike[str] | None = None,
        alert_state_dir: str | os.PathLike[str] | None = None,
        history_seconds: int = 960,
        history_raw_mib: float = 16.0,
        stack_args: bool = True,
        autotune: bool | AutotuneConfig = False,
    ) -> None:
        check_not_bootstrapping()
        self._autotune = autotune_config(autotune, monitor)
        size = default_size() if max_workers is None else max_workers
        if max_size is None:
            max_size = max(size if isinstance(size, int) else 1, 4 * default_size())
        if max_tasks_per_child is not None:
            check_int("max_tasks_per_child", max_tasks_per_child, 1)
            if max_tasks_per_worker not in (None, max_tasks_per_child):
                raise ConfigError(
                    "max_tasks_per_child is another name for max_tasks_per_worker; got both, "
                    f"with different values ({max_tasks_per_child} and {max_tasks_per_worker})"
                )
            max_tasks_per_worker = max_tasks_per_child
        self._cfg = PoolConfig(
            size=size,
            min_size=min_size,
            max_size=max_size,
            name=name if name is not None else f"pool-{os.getpid()}-{next(_names)}",
            start_method=resolve_start_method(mp_context, start_method),
            max_queue=max_queue,
            on_queue_full=on_queue_full,
            queue_timeout=queue_timeout,
            task_timeout=task_timeout,
            health_check_interval=health_check_interval,
            health_check_timeout=health_check_timeout,
            health_check_max_misses=health_check_max_misses,
            max_tasks_per_worker=max_tasks_per_worker,
            max_memory_per_worker=max_memory_per_worker,
            memory_check_interval=memory_check_interval,
            session_affinity=session_affinity,
            session_ttl=session_ttl,
            retry_backoff=retry_backoff,
            max_in_flight=max_in_flight,
            flush_interval=flush_interval,
            start_timeout=start_timeout,
            monitor=os.fspath(monitor) if isinstance(monitor, os.PathLike) else monitor,
            initializer=initializer,
            initargs=initargs,  # type: ignore[arg-type]  # any iterable: PoolConfig makes it a tuple
            alerts=alerts,
            alert_state_dir=alert_state_dir,
            history_seconds=history_seconds,
            history_raw_mib=history_raw_mib,
            stack_args=stack_args,
        )
        if telemetry is None:
            from poolmon.runtime.telemetry import DEFAULT_TELEMETRY

            telemetry = DEFAULT_TELEMETRY
        self._telemetry = telemetry
        self._resource_interval = check_seconds(
            "resource_interval", resource_interval, allow_none=True
        )
        self._ft = fr.FunctionTable()
        self._fids = self._ft.ids
        self._pack = fr.new_packer().pack
        self._counter = itertools.count()
        self._closed = False
        self._shutdown_lock = threading.Lock()
        self._max_queue = self._cfg.max_queue
        self._started_at_ns = time.time_ns()
        self._pid = os.getpid()
        em = PoolEmitter(telemetry, self._cfg.name, self._started_at_ns)
        self._eng = eng = Engine(self._cfg, em, self._ft)
        self._services: list[Any] = eng.services  # stopped by closing.engine_finished
        self._pending = eng.pending
        # A per-pool future class carries the engine at no per-task cost (see PoolFuture.result).
        self._fut_cls = type("PoolFuture", (PoolFuture,), {"__slots__": (), "_eng": eng})
        eng.set_tasks_on(telemetry.wants_tasks)
        eng.queue_bounded = self._max_queue is not None
        eng.refresh_submit_path()
        # nothing the pool starts may hold the pool itself, or it could never be collected
        eng.on_finished = functools.partial(closing.engine_finished, eng)
        with eng.io_lock:
            eng.ensure_size("initial")
        # The endpoint listens before the IO thread can report workers ready, so the pool's
        # first events (worker ready, pool.init with its size) are in every monitor's history.
        self._start_services()
        self._thread = eng.thread = threading.Thread(
            target=eng.run, name=f"poolmon-io-{self._cfg.name}", daemon=True
        )
        self._thread.start()
        closing.track(self, eng)
        with eng.io_lock:  # the endpoint attached just now: time tasks from the very first one
            if eng.tasks_on is not telemetry.wants_tasks:
                eng.set_tasks_on(telemetry.wants_tasks)
                eng.refresh_submit_path()

    # ------------------------------------------------------------------ submitting
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> PoolFuture:
        """Schedule `fn(*args, **kwargs)` on a worker; returns a `concurrent.futures.Future`.

        Raises PoolClosed (a RuntimeError) after shutdown, SubmitError (a TypeError) when fn or
        an argument cannot be pickled, QueueFull when `max_queue` tasks already wait.
        """
        # The enqueue below is written out again in `_submit` on purpose: a shared helper
        # call costs ~50 ns, ~3 % of trivial-task throughput on this, the hottest path.
        eng = self._eng
        try:
            fid = self._fids.get(fn)
        except TypeError:
            fid = None
        if fid is None or kwargs or eng.slow_submit:
            return self._submit(fn, args, kwargs, None)
        seq = next(self._counter)
        try:
            frame = self._pack([seq, fid, 0, [*args]])
        except SLOW_PACK:
            return self._submit(fn, args, kwargs, None, seq=seq)  # keep its id: ids count tasks
        fut: PoolFuture = _new(self._fut_cls)
        fut._cond = None
        fut._state = PENDING
        fut._seq = seq
        fut._frame = frame
        fut._opts = None
        fut._fid = fid
        eng.last_seq = seq  # per-task telemetry dates this submit by it (submitstamps.py)
        pending = self._pending
        pending.append(fut)
        n = len(pending)
        if n == 1:
            if eng.sleeping:
                eng.kick()
        elif not n & 31:
            eng.pump()
        return fut

    def _submit(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        opts: TaskOptions | None,
        chunk: list[tuple[Any, ...]] | None = None,
        seq: int | None = None,
    ) -> PoolFuture:
        """Every submit that is not the plain fast path (options, kwargs, telemetry, chunks).

        `seq` is the id the fast path already took when it fell back here.
        """
        broken = self._eng.broken
        if broken is not None:  # a fresh exception each time: a raised one grows its traceback
            raise InitializerFailed(broken.initializer, broken.cause) from broken.__cause__
        if self._closed:
            raise PoolClosed("cannot schedule new futures after shutdown")
        if self._eng.fatal is not None:
            raise PoolClosed(f"the pool's IO thread failed: {self._eng.fatal!r}")
        if not callable(fn):
            raise TypeError(f"{type(fn).__name__!r} object is not callable")
        eng = self._eng
        if self._max_queue is not None and len(self._pending) >= self._max_queue:
            self._wait_for_space()
        fid = self._ft.register(fn)
        if opts is not None and opts.timeout:
            eng.task_timeouts_seen = True
        if opts is not None and opts.op is not None:
            # its own function id, so that a task's op always follows from its fid
            fid = self._ft.register(fn, opts.op)
            op = self._ft.op_index(opts.op)
        elif fid >= 0:
            op = self._ft.fid_op[fid]
        else:
            op = self._ft.op_index(fr.op_name(fn))
        if seq is None:
            seq = next(self._counter)
        frame = self._encode(seq, fid, fn, args, kwargs, chunk)
        fut: PoolFuture = _new(self._fut_cls)
        fut._cond = None
        fut._state = PENDING
        fut._seq = seq
        fut._frame = frame
        fut._opts = opts
        fut._fid = fid
        fut._op = op
        eng.last_seq = seq
        pending = self._pending
        pending.append(fut)
        n = len(pending)
        if n == 1:
            if eng.sleeping:
                eng.kick()
        elif not n & 31:
            eng.pump()
        return fut

    def map(
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[Any]:
        """Like `Executor.map`; `chunksize` > 1 sends that many calls as one task.

        All tasks are submitted before this returns; results are yielded in order. A chunk
        that raises fails as a whole, at its position (as in ProcessPoolExecutor).
        """
        return self._map(fn, iterables, timeout, chunksize, None)

    def options(
        self,
        *,
        session: str | None = None,
        affinity: Affinity | None = None,
        timeout: float | None = None,
        idempotent: bool = False,
        retries: int = 0,
        op: str | None = None,
    ) -> BoundPool:
        """A view whose submit/map/run carry these per-call options (see `TaskOptions`)."""
        return BoundPool(self, TaskOptions(session, affinity, timeout, idempotent, retries, op))

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """`await pool.run(fn, *args, **kwargs)`: submit and await the result from asyncio."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    # ------------------------------------------------------------------ lifecycle
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting work; finish (or with cancel_futures, cancel) what is queued.

        Tasks already sent to a worker always finish. With wait=True, returns once every
        worker has exited. Timed as the `shutdown` pool operation.
        """
        if self._eng.finished.is_set():  # already wound down (e.g. a broken initializer)
            self._closed = True
            return
        self._eng.em.operation("shutdown", lambda: self._shutdown(wait, cancel_futures))

    def _shutdown(self, wait: bool, cancel_futures: bool) -> None:
        eng = self._eng
        with self._shutdown_lock:
            if not self._closed:
                self._closed = True
                if cancel_futures and eng.terminate_reason == "shutdown":
                    eng.terminate_reason = "cancel"
                closing.close(eng, cancel_futures)
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _start_services(self) -> None:
        """Start optional services that live as long as the pool.

        The monitor endpoint (when `monitor` is not False) and the resource sampler are
        started here, given a weak proxy of the pool (their threads must not keep a dropped
        pool alive); each entry of `_services` has a `stop()`, called newest first when the
        IO thread finishes (closing.engine_finished).
        """
        from poolmon.runtime.services import start_pool_services

        self._services.extend(start_pool_services(weakref.proxy(self)))

    @property
    def autotune_config(self) -> AutotuneConfig:
        """How this pool auto-tunes its size (`enabled` False: only when a monitor asks)."""
        return self._autotune
