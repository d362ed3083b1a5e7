"""Exceptions the pool raises, each naming what went wrong and where.

They exist because the standard library's answers are too coarse: ProcessPoolExecutor fails
every pending future with `BrokenProcessPool` when one worker dies, and multiprocessing.Pool
hangs. Here a crash fails only the task that was running, with the worker's id, pid and exit
status in the exception, so the caller can tell an OOM kill from a segfault.
"""

from __future__ import annotations

import pickle
import signal
from concurrent.futures.process import BrokenProcessPool

from poolmon.core.errors import PoolmonError


def safe_str(exc: BaseException) -> str:
    """`str(exc)`, or a placeholder when the exception's `__str__` itself raises.

    Used wherever the pool reports an exception that came from user data: the pool's own
    threads must never fail while describing someone else's failure.
    """
    try:
        return str(exc)
    except BaseException:
        return "<str() failed>"


def describe_error(exc: BaseException) -> str:
    """'TypeName: message' for any exception (see `safe_str`)."""
    message = safe_str(exc)
    name = type(exc).__qualname__
    return f"{name}: {message}" if message else name


def describe_exit(exit_code: int | None, sig: int | None) -> str:
    """Render an exit status the way an operator reads it: 'signal 9 (SIGKILL)' or 'exit code 1'."""
    if sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "unknown"
        return f"signal {sig} ({name})"
    if exit_code is not None:
        return f"exit code {exit_code}"
    return "unknown exit status"


class PoolClosed(PoolmonError, RuntimeError):
    """Work was submitted after `shutdown()`; a RuntimeError like the standard library raises."""


class QueueFull(PoolmonError):
    """`submit` was refused because `max_queue` tasks are already waiting for a worker."""

    def __init__(self, depth: int, max_queue: int, waited: float | None = None) -> None:
        self.depth = depth
        self.max_queue = max_queue
        self.waited = waited
        extra = f" after waiting {waited:.3f} s" if waited is not None else ""
        super().__init__(
            f"pool queue is full ({depth} tasks waiting, max_queue={max_queue}){extra}; "
            "wait for results, raise max_queue, or use on_queue_full='block'"
        )


class TaskTimeout(PoolmonError, TimeoutError):
    """A task ran past its timeout; its worker was killed and replaced."""

    def __init__(self, task_id: int, op: str, timeout: float, worker_id: int, pid: int) -> None:
        self.task_id = task_id
        self.op = op
        self.timeout = timeout
        self.worker_id = worker_id
        self.pid = pid
        super().__init__(
            f"task {task_id} ({op}) ran past its timeout of {timeout:g} s on worker "
            f"{worker_id} (pid {pid}); the worker was killed and replaced"
        )


class WorkerCrashed(PoolmonError):
    """The worker running a task died before answering.

    Attributes:
        worker_id: The pool's id of the dead worker.
        pid: Its OS process id.
        exit_code: Its exit status when it exited normally, else None.
        signal: The signal that killed it, else None.
        task_id: The task that was lost.
        result_lost: True when the task had finished but its result had not yet left the
            worker (see docs/POOL.md, "Crash guarantee").
    """

    def __init__(
        self,
        worker_id: int,
        pid: int,
        exit_code: int | None,
        signal: int | None,
        task_id: int,
        op: str,
        result_lost: bool = False,
    ) -> None:
        self.worker_id = worker_id
        self.pid = pid
        self.exit_code = exit_code
        self.signal = signal
        self.task_id = task_id
        self.op = op
        self.result_lost = result_lost
        what = "finished but its result was lost when" if result_lost else "was running when"
        super().__init__(
            f"task {task_id} ({op}) {what} worker {worker_id} (pid {pid}) died with "
            f"{describe_exit(exit_code, signal)}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self),
            (
                self.worker_id,
                self.pid,
                self.exit_code,
                self.signal,
                self.task_id,
                self.op,
                self.result_lost,
            ),
        )


class WorkerKilled(WorkerCrashed):
    """An operator killed the worker running the task (`kill_worker`); the slot was refilled.

    A `WorkerCrashed` (same attributes, caught by the same handlers), with a message that says
    it was done on purpose, so nobody hunts for a crash that never happened.
    """

    def __str__(self) -> str:
        what = "finished but its result was lost when" if self.result_lost else "was running when"
        return (
            f"task {self.task_id} ({self.op}) {what} an operator killed worker "
            f"{self.worker_id} (pid {self.pid}) with kill_worker; the worker was replaced"
        )


class RemoteError(PoolmonError):
    """A task raised an exception that could not be pickled back to the pool.

    Carries what survives the trip: the exception's type name, its message and the remote
    traceback text.
    """

    def __init__(self, type_name: str, message: str, traceback_text: str) -> None:
        self.type_name = type_name
        self.message = message
        self.traceback_text = traceback_text
        super().__init__(f"{type_name}: {message}\n\nRemote traceback:\n{traceback_text}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.type_name, self.message, self.traceback_text))


class RemoteTraceback(Exception):
    """Holds a worker's traceback text; set as `__cause__` of the re-raised exception."""

    def __init__(self, tb: str) -> None:
        self.tb = tb
        super().__init__(tb)

    def __str__(self) -> str:
        return self.tb


class SubmitError(PoolmonError, TypeError):
    """The function or its arguments cannot be sent to a worker (they do not pickle).

    Attributes:
        part: What failed to pickle, e.g. ``"args[1] (lock)"`` or ``"kwargs['key'] (...)"``
            ("" when it was the function itself).
        row: For a `map` chunk, the call within the chunk; None otherwise.
    """

    def __init__(self, message: str, *, part: str = "", row: int | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.row = row


class UnpickleError(PoolmonError, pickle.UnpicklingError):
    """A task's arguments or result arrived but could not be unpickled; only that task fails.

    Whatever the unpickling raised, even `SystemExit` or `KeyboardInterrupt` from a
    `__reduce__` or `__setstate__`, is the `__cause__` (in the pool; a worker's cause travels
    as the remote traceback text) and is summed up in `cause`. The pool's IO thread and the
    worker both carry on.

    Attributes:
        what: What failed, e.g. "the result of task 7 (fn)".
        where: "in the pool" or "in worker 3 (pid 1234)".
        cause: The cause as "TypeName: message".
    """

    def __init__(self, what: str, where: str, cause: str) -> None:
        self.what = what
        self.where = where
        self.cause = cause
        super().__init__(f"{what} could not be unpickled {where}: {cause}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.what, self.where, self.cause))


class InitializerFailed(PoolmonError, BrokenProcessPool):
    """The pool's `initializer` raised in a worker; the pool is broken (see docs/POOL.md).

    A subclass of `concurrent.futures.process.BrokenProcessPool`, which is what code written
    for ProcessPoolExecutor catches in this situation. The initializer's exception is the
    `__cause__` (with the worker's traceback text) and summed up in `cause`.

    Attributes:
        initializer: The initializer's qualified name.
        cause: Its exception as "TypeName: message".
    """

    def __init__(self, initializer: str, cause: str) -> None:
        self.initializer = initializer
        self.cause = cause
        super().__init__(
            f"the pool's initializer {initializer} raised in a worker ({cause}); the pool is "
            "broken: queued and new tasks fail with this error, workers are not restarted "
            "(shut it down and fix the initializer)"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.initializer, self.cause))
