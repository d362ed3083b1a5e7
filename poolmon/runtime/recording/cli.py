"""`poolmon record NAME -o FILE [--duration 1h] [--max-size SIZE [--rotate]] [--force]`.

Why a verb of its own: recording is what an operator starts before leaving a problem pool
alone for the night, with no terminal app attached. It prints one line when it starts, one
every `--progress` seconds and a summary at the end (Ctrl-C, SIGTERM or SIGHUP stop it
cleanly); every mistake it can detect (no pool, a bad path, a bad size or duration) is one
line on stderr before anything is written.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from poolmon.core.errors import ConfigError


def add_record_arguments(p: argparse.ArgumentParser) -> None:
    """The verb's arguments (called by `poolmon.cli`)."""
    p.add_argument("name", metavar="NAME", help="pool name or socket path")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the recording file")
    p.add_argument("--duration", default=None, help="stop after this long (30s, 15m, 1h)")
    p.add_argument("--max-size", default=None, metavar="SIZE", help="cap per file (500M, 2G)")
    p.add_argument(
        "--rotate", action="store_true", help="at --max-size, continue in FILE.partN (not stop)"
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument(
        "--progress", type=float, default=10.0, help="seconds between progress lines (0: none)"
    )


def add_replay_arguments(p: argparse.ArgumentParser) -> None:
    """`poolmon replay FILE [--at TIME] [--speed N] [--play]` (the app is `poolmon.app`)."""
    p.add_argument("file", metavar="FILE", help="a recording made by `poolmon record` or `R`")
    p.add_argument("--at", default=None, metavar="TIME", help="start at 02:47, +5m, 12m or end")
    p.add_argument("--speed", type=int, choices=[1, 10, 60, 600], default=1, help="play speed")
    p.add_argument("--play", action="store_true", help="start playing at once (default: paused)")
    p.add_argument(
        "--window", choices=["1m", "5m", "15m", "1h"], default=None, help="initial time window"
    )
    p.add_argument(
        "--refresh", type=float, default=None, help="screen refreshes per second (default 4)"
    )


def run_record(args: argparse.Namespace) -> int:
    """Record until the duration, the size cap, the pool's end or Ctrl-C; print a summary."""
    from poolmon.core.alerts.units import parse_duration
    from poolmon.core.recording.timeline import parse_size
    from poolmon.runtime.client import MonitorClient
    from poolmon.runtime.commands import resolve_socket
    from poolmon.runtime.recording.recorder import Recorder
    from poolmon.runtime.recording.writer import check_output

    try:
        duration = parse_duration(args.duration) if args.duration else None
        max_bytes = parse_size(args.max_size) if args.max_size else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.rotate and max_bytes is None:
        raise ConfigError("--rotate needs --max-size")
    output = Path(args.output)
    socket = resolve_socket(args.name)
    check_output(output, args.force)
    probe = MonitorClient(socket, read_only=True, history=False, timeout_s=3.0)
    try:  # a wrong path or protocol fails here, in one line, before the file is created
        probe.connect(subscribe=False)
    finally:
        probe.close()
    recorder = Recorder(socket, output, max_bytes=max_bytes, rotate=args.rotate, force=args.force)
    until = f" for {args.duration}" if duration else " until Ctrl-C"
    print(f"recording {args.name} into {output}{until}", file=sys.stderr, flush=True)
    recorder.start()
    started = time.monotonic()
    next_line = started + args.progress if args.progress > 0 else float("inf")
    reason = "stopped"
    stopped_by = _stop_on_signals()
    try:
        while not recorder.ended.wait(0.2):
            now = time.monotonic()
            if stopped_by:
                reason = f"stopped by {stopped_by[0]}"
                break
            if duration is not None and now - started >= duration:
                reason = f"duration {args.duration} reached"
                break
            if now >= next_line:
                next_line += args.progress
                print(f"  {now - started:6.0f}s  {recorder.summary()}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        reason = "interrupted (Ctrl-C)"
    if recorder.ended.is_set():
        reason = recorder.end_reason
    recorder.stop(reason)
    print(f"recording ended: {reason}", file=sys.stderr)
    print(f"{output}: {recorder.summary()}", file=sys.stderr)
    return 0 if recorder.writer is not None else 1


def _stop_on_signals() -> list[str]:
    """Make SIGTERM (and SIGHUP, unless ignored, as `nohup` does) end the recording cleanly.

    Why: a recorder is often started by a supervisor or a script, which stops it with
    SIGTERM, or from a terminal that goes away. Killed by the default action, it would lose
    what it holds for compression (up to 2 s while no CPU is idle, docs/RECORDING.md) and
    skip its summary. The handler only records the signal's name; the wait loop sees it
    within 0.2 s and stops the recorder as Ctrl-C does. Returns that (shared) list.
    """
    got: list[str] = []

    def handler(signum: int, _frame: object) -> None:
        got.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handler)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, handler)
    return got
