"""The slow paths of submitting: frame encoding with the pickle fallback, and a full queue.

Why apart from pool.py: `Pool.submit` inlines the common case (a cached function, positional
msgpack-typed arguments); everything else (kwargs, options, chunks, pickled payloads,
`max_queue` back-pressure) lands here, where clarity matters more than nanoseconds.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from poolmon.runtime.pool import framing as fr
from poolmon.runtime.pool.config import PoolConfig
from poolmon.runtime.pool.engine import Engine
from poolmon.runtime.pool.errors import PoolClosed, QueueFull, SubmitError
from poolmon.runtime.pool.future import PoolFuture
from poolmon.runtime.pool.options import TaskOptions

SLOW_PACK = (TypeError, ValueError, OverflowError)
"""What a strict msgpack packer raises for a value that is not exactly msgpack-typed."""


class SubmitSupport:
    """Encoding, `map`'s submitting and queue back-pressure for `Pool` (mixed in)."""

    _eng: Engine
    _cfg: PoolConfig
    _closed: bool
    _pending: deque[PoolFuture]
    _pack: Callable[[Any], bytes]
    _submit: Callable[..., PoolFuture]

    def _encode(
        self,
        seq: int,
        fid: int,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        chunk: list[tuple[Any, ...]] | None,
    ) -> bytes:
        """Build a task frame: msgpack when every value is exactly msgpack-typed, else pickle."""
        head: list[Any] = [seq, fid]
        if fid < 0:
            if chunk is not None:
                blob = fr.dumps_call((fn, chunk), fn, args, kwargs, chunk)
                body: list[Any] = [fr.M_FN_CHUNK_PICKLED, blob]
            else:
                body = [fr.M_FN_PICKLED, fr.dumps_call((fn, args, kwargs), fn, args, kwargs, None)]
        elif chunk is not None:
            body = [fr.M_CHUNK, [[*row] for row in chunk]]
        elif kwargs:
            body = [fr.M_ARGS_KW, [[*args], kwargs]]
        else:
            body = [fr.M_ARGS, [*args]]
        try:
            return self._pack(head + body)
        except SLOW_PACK:
            pass
        if chunk is not None:
            body = [fr.M_CHUNK_PICKLED, fr.dumps_call(chunk, fn, args, kwargs, chunk)]
        else:
            body = [fr.M_PICKLED, fr.dumps_call((args, kwargs), fn, args, kwargs, None)]
        return self._pack(head + body)

    def _wait_for_space(self) -> None:
        """max_queue reached: raise QueueFull, or block (policy 'block') until there is room."""
        eng = self._eng
        cfg = self._cfg
        eng.pump()  # results that already arrived may have made room on a worker
        if cfg.max_queue is None or len(self._pending) < cfg.max_queue:
            return  # (the bound may have been lifted or raised at run time: queue_bound)
        if cfg.on_queue_full == "raise":
            eng.counters.rejected += 1
            eng.em.queue_rejected(len(self._pending), cfg.max_queue, "raise")
            raise QueueFull(len(self._pending), cfg.max_queue)
        start = time.monotonic()
        deadline = None if cfg.queue_timeout is None else start + cfg.queue_timeout
        with eng.space_cond:
            eng.space_waiters += 1
            try:
                while cfg.max_queue is not None and len(self._pending) >= cfg.max_queue:
                    if self._closed:
                        raise PoolClosed("cannot schedule new futures after shutdown")
                    left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
                    if left <= 0:
                        eng.counters.rejected += 1
                        eng.em.queue_rejected(len(self._pending), cfg.max_queue, "block timeout")
                        raise QueueFull(len(self._pending), cfg.max_queue, time.monotonic() - start)
                    eng.space_cond.wait(left)
            finally:
                eng.space_waiters -= 1

    def _map(
        self,
        fn: Callable[..., Any],
        iterables: tuple[Iterable[Any], ...],
        timeout: float | None,
        chunksize: int,
        opts: TaskOptions | None,
    ) -> Iterator[Any]:
        """`map` (and a bound view's): submit every call now, then yield results in order."""
        if not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        end = None if timeout is None else time.monotonic() + timeout
        rows = zip(*iterables, strict=False)
        futs: list[PoolFuture] = []
        try:
            if chunksize == 1:
                for row in rows:
                    futs.append(self._submit(fn, row, {}, opts))
            else:
                while True:
                    chunk = list(itertools.islice(rows, chunksize))
                    if not chunk:
                        break
                    futs.append(self._submit(fn, (), {}, opts, chunk))
        except SubmitError as exc:
            # as submit(): the call that does not pickle fails map() itself, and the calls
            # queued before it are cancelled rather than left running for nobody
            for fut in futs:
                fut.cancel()
            index = len(futs) * chunksize + (exc.row or 0)
            raise SubmitError(
                f"map() call {index}: {exc}; the {len(futs)} task(s) queued before it were "
                "cancelled (any a worker had already started still run)",
                part=exc.part,
                row=index,
            ) from exc
        return map_results(futs, end, chunksize > 1)


def map_results(futs: list[PoolFuture], end: float | None, chunked: bool) -> Iterator[Any]:
    """`Pool.map`'s iterator: results in order, none kept once yielded; cancel the rest on exit.

    Nothing here names a future or a result across a `yield` (values go straight from
    `_take` to the consumer, a chunk's list is emptied as it is yielded), so a consumer that
    drops each result frees it at once, as with the standard executors.
    """
    futs.reverse()
    try:
        while futs:
            if chunked:
                chunk = _take(futs.pop(), end)
                chunk.reverse()  # popped from the end, in order, by C code (as fast as a list)
                yield from map(chunk.pop, itertools.repeat(-1, len(chunk)))
            else:
                yield _take(futs.pop(), end)
    finally:
        for fut in futs:
            fut.cancel()


def _take(fut: PoolFuture, end: float | None) -> Any:
    """One result for `map_results`; a future given up on (timeout, interrupt) is cancelled."""
    try:
        return fut.result() if end is None else fut.result(end - time.monotonic())
    except BaseException:
        fut.cancel()
        raise
