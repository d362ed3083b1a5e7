"""A `concurrent.futures.Future` that costs a fraction of one to create and complete.

Why: `cf.Future()` builds a `threading.Condition` in `__init__` (about 1.5 µs measured here),
more than everything else a fast pool spends per task. `PoolFuture` is a real subclass (so
`cf.wait`, `as_completed`, `asyncio.wrap_future` and `isinstance` checks work) that creates its
Condition, waiter list and callback list only when somebody asks for them.

The race that laziness opens, and how it is closed: a completer must never set FINISHED
without notifying a waiter that is about to sleep. All condition creation happens under the
module lock `FUTURE_LOCK`; the pool completes (or starts) a whole batch of futures while holding
that lock, and takes the cheap path (plain attribute stores) only for futures whose condition
does not exist. A future whose condition exists goes through the standard locked path. So for
each future either the batch finished before the condition was created (the waiter then sees
FINISHED under its condition), or the completer sees the condition and notifies properly.
"""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future
from concurrent.futures._base import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    LOGGER,
    PENDING,
    RUNNING,
)
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poolmon.runtime.pool.options import TaskOptions

FUTURE_LOCK = threading.RLock()
"""Guards lazy condition creation against the pool's batched fast paths (see module doc)."""

__all__ = [
    "CANCELLED",
    "CANCELLED_AND_NOTIFIED",
    "FINISHED",
    "FUTURE_LOCK",
    "PENDING",
    "RUNNING",
    "PoolFuture",
    "new_future",
]


class PoolFuture(Future[Any]):
    """The future `Pool.submit` returns; behaves exactly like `concurrent.futures.Future`.

    Besides the standard fields it carries the task it stands for (sequence number, encoded
    frame, per-call options), so the pool needs no second object per task.
    """

    __slots__ = (
        "_attempt",
        "_cbl",
        "_cond",
        "_exception",
        "_fid",
        "_frame",
        "_op",
        "_opts",
        "_result",
        "_seq",
        "_state",
        "_wl",
    )

    def __init__(self) -> None:
        # Deliberately does not call Future.__init__ (that builds the Condition eagerly).
        self._cond: threading.Condition | None = None
        self._state = PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._seq = -1
        self._frame = b""
        self._opts: TaskOptions | None = None
        self._op = 0
        self._fid = -1
        self._attempt = 0

    @property
    def _condition(self) -> threading.Condition:
        cond = self._cond
        if cond is None:
            with FUTURE_LOCK:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition()
            eng = self._eng
            if eng is not None and eng.disarmed:
                eng.release_disarmed()  # somebody waits: the IO thread must see results
        return cond

    @_condition.setter
    def _condition(self, value: threading.Condition) -> None:
        self._cond = value

    @property
    def _waiters(self) -> list[Any]:
        try:
            return self._wl
        except AttributeError:
            self._wl: list[Any] = []
            return self._wl

    @_waiters.setter
    def _waiters(self, value: list[Any]) -> None:
        self._wl = value

    @property
    def _done_callbacks(self) -> list[Any]:
        try:
            return self._cbl
        except AttributeError:
            self._cbl: list[Any] = []
            return self._cbl

    @_done_callbacks.setter
    def _done_callbacks(self, value: list[Any]) -> None:
        self._cbl = value

    def _invoke_callbacks(self) -> None:
        """Run the done-callbacks; whatever one raises is logged, never propagated.

        Unlike the base class this also catches BaseException (a callback calling
        `sys.exit()`, say): callbacks run in the pool's IO thread, which must outlive them.
        """
        for callback in self._done_callbacks:
            try:
                callback(self)
            except BaseException:
                LOGGER.exception("exception calling callback for %r", self)

    _eng: Any = None  # set on each pool's subclass (see Pool.__init__): the engine to drive

    def result(self, timeout: float | None = None) -> Any:
        """As `Future.result`, without building a Condition when the result is already here.

        While the result is pending and the pool's IO is idle, the waiting thread briefly
        does the pool's IO itself (see `Engine.drive`): one thread wake-up fewer per round
        trip than handing the result over from the IO thread. An exception is raised whatever
        its truth value (the base class of 3.11 tests `if self._exception:`, so an exception
        whose `bool()` is False would come back as a None result).
        """
        if self._state is not FINISHED:
            if self._eng is not None:
                self._eng.drive(self, timeout)
            if self._state is not FINISHED:
                self._wait(timeout)
        exc = self._exception
        if exc is None:
            return self._result
        try:
            raise exc
        finally:
            del exc  # break the traceback -> frame -> exc cycle, as the base class does

    def _wait(self, timeout: float | None) -> None:
        """Block until finished; CancelledError / TimeoutError as the base class raises them."""
        with self._condition:
            if self._state is PENDING or self._state is RUNNING:
                self._condition.wait(timeout)
            state = self._state
        if state is CANCELLED or state is CANCELLED_AND_NOTIFIED:
            raise CancelledError()
        if state is not FINISHED:
            raise TimeoutError()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """As `Future.exception`, lock-free once finished."""
        if self._state is FINISHED:
            return self._exception
        return super().exception(timeout)

    def cancel(self) -> bool:
        """Cancel the task if it has not been sent to a worker yet; True if it will not run.

        Unlike the base class this notifies waiters at once (CANCELLED_AND_NOTIFIED), so a
        `cf.wait` on a cancelled future returns without waiting for the pool to skip it.
        """
        with self._condition:
            state = self._state
            if state is RUNNING or state is FINISHED:
                return False
            if state is CANCELLED or state is CANCELLED_AND_NOTIFIED:
                return True
            self._state = CANCELLED_AND_NOTIFIED
            for waiter in self._waiters:
                waiter.add_cancelled(self)
            self._condition.notify_all()
        self._invoke_callbacks()
        return True

    def _finish_locked(self, result: Any, exc: BaseException | None) -> None:
        """Complete through the standard locked path (a waiter or callback exists)."""
        with self._condition:
            if self._state is not RUNNING and self._state is not PENDING:
                return  # cancelled meanwhile: drop the result, as the stdlib would
            self._result = result
            self._exception = exc
            self._state = FINISHED
            for waiter in self._waiters:
                if exc is None:
                    waiter.add_result(self)
                else:
                    waiter.add_exception(self)
            self._condition.notify_all()
        self._invoke_callbacks()

    def _start_locked(self) -> bool:
        """Move PENDING -> RUNNING through the locked path; False if it was cancelled."""
        with self._condition:
            if self._state is PENDING:
                self._state = RUNNING
                return True
            return self._state is RUNNING


_new = object.__new__


def new_future(seq: int, frame: bytes, opts: TaskOptions | None, fid: int, op: int) -> PoolFuture:
    """Create a PENDING future for task `seq` without running any `__init__`.

    `Pool.submit` inlines the same stores on its hot path; this is the readable version.
    """
    fut: PoolFuture = _new(PoolFuture)
    fut._cond = None
    fut._state = PENDING
    fut._seq = seq
    fut._frame = frame
    fut._opts = opts
    fut._fid = fid
    fut._op = op
    fut._attempt = 0
    return fut


def finish(fut: PoolFuture, result: Any, exc: BaseException | None) -> None:
    """Complete one future outside a batch (slow paths: crashes, timeouts, shutdown)."""
    with FUTURE_LOCK:
        if fut._cond is None:
            if fut._state is RUNNING or fut._state is PENDING:
                fut._result = result
                fut._exception = exc
                fut._state = FINISHED
            return
    fut._finish_locked(result, exc)
