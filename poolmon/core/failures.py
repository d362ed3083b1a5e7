"""Recent task failures with their message and remote traceback, bounded in size and count.

Why: a failed task's count says *that* something broke; its exception message and the
traceback from the worker say *what*, which is what a person opens the monitor for (Flower
shows them per task). The pool sends both in `poolmon.task.exception`; they come from user
code and can be any size (a message holding a megabyte of data, a deep recursion), so:

* the pool clips them before they go on the wire (`clip_message`, `clip_traceback`): the
  message to `MESSAGE_CAP` characters, the traceback to `TRACEBACK_CAP` (each of its lines
  to `MESSAGE_CAP` first), keeping its head
  (where the task was called) and its tail (the innermost frames and the exception line,
  the part that says what went wrong), with a marker saying how much was cut;
* the aggregator keeps the last `FAILURES_KEPT` of them in a ring (`FailureRing`), clipping
  again whatever arrives (a stream from an older pool), so the memory they can take is fixed:
  at most `FAILURES_KEPT` x (`MESSAGE_CAP` + `TRACEBACK_CAP`) characters.

Events re-sent after a reconnect are already dropped by the aggregator's sequence numbers;
the ring also ignores a task id it already holds (a stream without sequence numbers).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from poolmon.core.events import Event

MESSAGE_CAP: Final = 1024
"""Characters of `str(exception)` kept per failure."""
TRACEBACK_CAP: Final = 8192
"""Characters of the remote traceback kept per failure (head and tail, see `clip_traceback`)."""
TRACEBACK_HEAD: Final = 1024
"""Of those, characters kept from the start (the outermost frames); the rest from the end."""
FAILURES_KEPT: Final = 100
"""Failures the aggregator remembers (newest kept)."""


def cut_marker(cut: int) -> str:
    """The line that replaces `cut` characters removed from a long text."""
    return f"\n… [{cut:,} characters cut by poolmon] …\n"


def clip_traceback(text: str, cap: int = TRACEBACK_CAP, head: int = TRACEBACK_HEAD) -> str:
    """`text` if it fits in `cap` characters, else its head and tail around a cut marker.

    Each line is first clipped to `MESSAGE_CAP` (the exception line repeats the message, and
    a huge one would push every frame out). The tail matters most (innermost frames and the
    exception line), so it gets most of the room; the result, marker included, is never
    longer than `cap` (for `cap` >= 100).
    """
    if len(text) <= cap:
        return text
    if any(len(line) > MESSAGE_CAP for line in text.split("\n")):
        text = "\n".join(clip_message(line) for line in text.split("\n"))
        if len(text) <= cap:
            return text
    marker = cut_marker(len(text))  # the longest the marker can be: its count only shrinks
    tail = max(0, cap - head - len(marker))
    cut = len(text) - head - tail
    return text[:head] + cut_marker(cut) + text[len(text) - tail :]


def clip_message(text: str, cap: int = MESSAGE_CAP) -> str:
    """`text` if it fits in `cap` characters, else its start and how much was cut."""
    if len(text) <= cap:
        return text
    suffix = f" … [{len(text):,} characters, cut by poolmon]"
    return text[: max(0, cap - len(suffix))] + suffix


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """One failed task as the pool reported it (`poolmon.task.exception`).

    Attributes:
        at_ns: When the pool saw the failure (wall clock).
        task_id: The task's id (the pool's sequence number of the submit).
        op: Its operation.
        worker_id: The worker that ran it.
        pid: That worker's process id.
        error_type: The exception's class name.
        message: `str(exception)`, clipped to `MESSAGE_CAP`.
        traceback: The remote traceback text, clipped to `TRACEBACK_CAP` ("" if none came).
        duration_ns: How long the task ran before raising (None when not reported).
    """

    at_ns: int
    task_id: int
    op: str
    worker_id: int
    pid: int
    error_type: str
    message: str
    traceback: str
    duration_ns: int | None = None


def failure_from_event(e: Event) -> TaskFailure:
    """A `poolmon.task.exception` event as a `TaskFailure` (tolerant of missing fields)."""
    md, m = e.metadata, e.measurements
    duration = m.get("duration_ns")
    worker, task = md.get("worker_id"), md.get("task_id")
    return TaskFailure(
        at_ns=e.ts_ns,
        task_id=-1 if task is None else int(task),
        op=str(md.get("op") or "?"),
        worker_id=-1 if worker is None else int(worker),
        pid=int(md.get("pid") or 0),
        error_type=str(md.get("error_type") or "?"),
        message=clip_message(str(md.get("message") or "")),
        traceback=clip_traceback(str(md.get("traceback") or "")),
        duration_ns=None if duration is None else int(duration),
    )


class FailureRing:
    """The last `size` task failures, oldest first (see module doc)."""

    def __init__(self, size: int = FAILURES_KEPT) -> None:
        self._ring: deque[TaskFailure] = deque(maxlen=size)
        self._ids: set[int] = set()

    def __len__(self) -> int:
        return len(self._ring)

    def add(self, e: Event) -> None:
        """Remember the failure of a `poolmon.task.exception` event (a repeated id is ignored)."""
        failure = failure_from_event(e)
        if failure.task_id >= 0 and failure.task_id in self._ids:
            return
        if len(self._ring) == self._ring.maxlen:
            self._ids.discard(self._ring[0].task_id)
        self._ring.append(failure)
        self._ids.add(failure.task_id)

    def new_instance(self) -> None:
        """A pool restart: task ids start over, so the ids held no longer identify anything.

        The failures themselves stay: they are the old instance's history.
        """
        self._ids.clear()

    def recent(self) -> tuple[TaskFailure, ...]:
        """The failures held, newest first."""
        return tuple(reversed(self._ring))
