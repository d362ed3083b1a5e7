"""Exceptions the pool raises, each naming what went wrong and where.

They exist because the standard library's answers are too coarse: ProcessPoolExecutor fails
every pending future with `BrokenProcessPool` when one worker dies, and multiprocessing.Pool
hangs. Here a crash fails only the task that was running, with the worker's id, pid and exit
status in the exception, so the caller can tell an OOM kill from a segfault.
"""

from __future__ import annotations

import signal

from poolmon.core.errors import PoolmonError


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
    """The function or its arguments cannot be sent to a worker (they do not pickle)."""
