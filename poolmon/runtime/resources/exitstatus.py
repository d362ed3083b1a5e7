"""How a process ended, as the two fields a `poolmon.worker.exit` event carries.

The OS reports an exit in three shapes: a raw `waitpid` status word (also what
`/proc/<pid>/stat` keeps for a zombie), a `subprocess.Popen` / `multiprocessing.Process`
return code (negative for a signal), and nothing at all when someone else reaped the child.
Monitors need one shape: `exit_code` (the status passed to `exit()`) or `signal` (the signal
that killed it), never both. This module converts every shape into `ExitStatus` so the
resource sampler and the pool's supervisor report exits identically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """A finished process's outcome: exactly one of the two fields is set.

    Attributes:
        exit_code: The value the process passed to `exit()` (0 = success), or None when a
            signal ended it.
        signal: The number of the signal that terminated it, or None for a normal exit.
        core_dumped: True when the kernel wrote a core file (only known from a wait status).
    """

    exit_code: int | None
    signal: int | None
    core_dumped: bool = False

    @property
    def killed(self) -> bool:
        """Whether a signal, not `exit()`, ended the process."""
        return self.signal is not None

    def as_metadata(self) -> dict[str, int | None]:
        """The `exit_code` and `signal` fields, ready to merge into an event's metadata."""
        return {"exit_code": self.exit_code, "signal": self.signal}


def from_returncode(returncode: int | None) -> ExitStatus:
    """Convert a `Popen.returncode` / `Process.exitcode` (negative = killed by that signal).

    Raises:
        TypeError: When `returncode` is None: the process has not been reaped yet, so there is
            no outcome to report (callers must poll or wait first).
    """
    if returncode is None:
        raise TypeError("returncode is None: the process has not finished (wait for it first)")
    if returncode < 0:
        return ExitStatus(exit_code=None, signal=-returncode)
    return ExitStatus(exit_code=returncode, signal=None)


def from_wait_status(status: int) -> ExitStatus:
    """Convert a raw `os.waitpid` status word (or a zombie's `/proc/<pid>/stat` exit field).

    Raises:
        ValueError: When the word describes a stopped or continued process, which has not
            exited (callers that pass WUNTRACED/WCONTINUED must filter those first).
    """
    if os.WIFSIGNALED(status):
        return ExitStatus(
            exit_code=None, signal=os.WTERMSIG(status), core_dumped=os.WCOREDUMP(status)
        )
    if os.WIFEXITED(status):
        return ExitStatus(exit_code=os.WEXITSTATUS(status), signal=None)
    raise ValueError(f"wait status {status:#x} is a stop or continue, not an exit")


def reap(pid: int) -> ExitStatus | None:
    """Collect a finished child of this process without blocking, and say how it ended.

    This is the default way to clear a zombie the resource monitor found. Only call it for
    children nobody else waits on: reaping a `multiprocessing.Process` or `Popen` child here
    steals its status from that object (its `exitcode` stays None); pass a callback that
    asks the owner to `join()` / `poll()` instead.

    Returns:
        The exit, or None when the child is still running or is not a child of this process
        (already reaped, or someone else's).
    """
    try:
        waited, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if waited == 0:
        return None
    return from_wait_status(status)
