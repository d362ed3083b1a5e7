"""How a `worker_stack` reply reads as text: one formatter for `poolmon stack` and the app.

Pure (no IO): the reply is the endpoint command's mapping. Frames are innermost first, like
py-spy prints them, so the line the task is stuck on comes first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def task_line(reply: Mapping[str, Any]) -> str:
    """`task 17 op resize running 12.3 s args (1, 2)`, or that the worker is idle.

    Or, when the worker changed task during every read (tasks of a few ms), that no task can
    be named for these frames.
    """
    moved = reply.get("task_moved")
    if moved:
        was, now = ("none" if t is None else t for t in moved)
        return (
            f"task unknown: the worker went from task {was} to {now} while the stack was read "
            "(tasks this short finish within a read); the frames below belong to one of them, "
            "or to the worker's loop between them"
        )
    if reply.get("task_id") is None:
        return "no task running (the worker is idle)"
    age = reply.get("age_s")
    age_text = "—" if age is None else f"{age:.1f} s"
    text = f"task {reply['task_id']}  op {reply.get('op') or '—'}  running {age_text}"
    args = reply.get("args")
    return text if args is None else f"{text}\nargs {args}"


def format_stack(reply: Mapping[str, Any]) -> list[str]:
    """Header (worker, pid, producer, limits, notes), task line, then one or two lines a frame."""
    lines = [
        f"worker {reply.get('worker_id')} (pid {reply.get('pid')})  "
        f"stack from {reply.get('producer')}, most recent call first",
        f"limits: {reply.get('limits', '')}",
    ]
    lines += [f"note: {note}" for note in reply.get("notes") or ()]
    lines += task_line(reply).splitlines()
    for path, line, func, source in reply.get("frames") or ():
        lines.append(f"  {path}:{line} in {func}")
        if source:
            lines.append(f"      {source}")
    return lines
