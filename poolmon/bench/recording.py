"""Record and replay figures for `python -m poolmon.bench investigate` (issue #15).

* `record_bytes_per_task`: a real pool (2 workers) runs trivial tasks paced at ~100k/s (a
  burst of 1,000 every 10 ms) while a `poolmon record` subprocess records it; the file's
  bytes divided by the task rows the recording holds (counted by replaying it).
* `throughput_recording_vs_not`: one real pool (2 workers, trivial tasks, as fast as it
  goes) kept saturated for 20 s with a `poolmon record` subprocess attached and without,
  interleaved pairs in one run; the median of the per-pair ratios (sustained, not a burst:
  see `throughput_ratio`). Beside it,
  `recorder_cpu_ns_per_task_while_timed`: the recorder's CPU time during the recorded runs
  (psutil, summed over the pairs) per task - what the recorder took while the pool was
  busy, a figure a loaded machine blurs far less than the ratio.
  `recorder_cpu_ns_per_task_to_exit` is the same from the start of each timing until the
  recorder exited (its own rusage, reaped): it adds the frames that waited for an idle CPU
  past the window (`DEFER_S`) and the flush at close, so a recorder cannot look cheap by
  putting its work off. `recorder_dropped_frames_while_timed` and
  `records_lost_while_timed` (from each recorder's closing summary) must be 0, or it looked
  cheap by not recording; `record_bytes_per_task_saturated` is the files' size per task they hold.
* `replay_seek_ms_1h`: a real pool recorded for a minute at ~2,000 tasks/s, stretched to an
  hour with the real codec (`poolmon.testing.recordings.stretch`: the minute repeated 60
  times, every receive time, event time, task start and sequence number shifted, so it
  replays as one pool's hour); the app (`ReplayApp`, 160x50, headless) opened on it, played
  through once to the end (the checkpoints are taken as play passes them: that pass is
  `replay_first_pass_s_1h`), then seeks to seeded random points, each timed from the seek to
  the drawn frame (`seek` + `refresh_frame` + the screen's repaint); the median.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from poolmon.bench.common import median
from poolmon.bench.tasks import ident

_REPO = str(Path(__file__).resolve().parents[2])


def _recorder(name: str, path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`poolmon record NAME -o PATH` in a subprocess, once it has written its header."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolmon", "record", name, "-o", str(path), "--progress", "0"],
        cwd=_REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (path.exists() and path.stat().st_size):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"poolmon record did not start: {proc.communicate()[1]}")
        time.sleep(0.05)
    time.sleep(1.0)  # attached, backfill written
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    """Stop a recorder as a supervisor does and return its stderr.

    SIGTERM, not SIGINT: a job started in the background ignores SIGINT, and so would the
    recorder it starts.
    """
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return err


def _paced(pool: Any, rate: float, seconds: float, burst: int) -> int:
    """Submit `burst` trivial tasks every `burst / rate` s for `seconds`; all waited for."""
    futures: list[Any] = []
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        futures.extend(pool.submit(ident, i) for i in range(burst))
        n += burst
        if len(futures) > 20 * burst:
            for f in futures:
                f.result()
            futures.clear()
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    for f in futures:
        f.result()
    return n


def _recorded_tasks(path: Path) -> int:
    from poolmon.runtime.recording.replay import ReplaySource

    source = ReplaySource(path)
    try:
        source.seek(source.timeline.end_ns)
        return source.snapshot(60).tasks_finished_total
    finally:
        source.stop()


def record_size(env: dict[str, str], folder: Path, rate: float, seconds: float) -> dict[str, Any]:
    """Bytes per task of a recording of a pool paced at `rate` trivial tasks/s."""
    from poolmon import Pool

    pool = Pool(2, name="recsize", alerts=False)
    try:
        pool.wait_ready(30)
        path = folder / "size.pmrec"
        proc = _recorder("recsize", path, env)
        t0 = time.monotonic()
        submitted = _paced(pool, rate, seconds, 1000)
        achieved = submitted / (time.monotonic() - t0)
        time.sleep(1.5)
        _stop(proc)
    finally:
        pool.shutdown()
    tasks = _recorded_tasks(path)
    return {
        "bytes_per_task": path.stat().st_size / max(1, tasks),
        "tasks": tasks,
        "submitted": submitted,
        "rate": achieved,
        "bytes": path.stat().st_size,
    }


def throughput_ratio(
    env: dict[str, str], folder: Path, pairs: int, seconds: float
) -> dict[str, Any]:
    """One pool's sustained throughput with a recorder attached / without, interleaved pairs.

    Each timing keeps the pool saturated for `seconds` (submits in chunks of 50,000, all
    waited for). The recorder may let frames wait up to `DEFER_S` while no CPU is idle, so a
    burst shorter than that would time the pool before the recorder paid for it (the first
    version of this figure timed 0.8-s bursts); over `seconds`, at least ten deferral periods,
    at most one period's work escapes the window, so the figure is the steady cost of
    recording a saturated pool.
    """
    from poolmon import Pool
    from poolmon.runtime.recording.writer import DEFER_S

    seconds = max(seconds, 10 * DEFER_S)
    pool = Pool(2, name="recratio", alerts=False)

    def saturate() -> tuple[int, float]:
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < seconds:
            for f in [pool.submit(ident, i) for i in range(n, n + 50_000)]:
                f.result()
            n += 50_000
        return n, t0

    with_rec: list[float] = []
    without: list[float] = []
    cpu_during = cpu_to_exit = 0.0
    recorded_tasks = recorded_bytes = 0
    summary = {"dropped": 0, "lost": 0, "tasks": 0}
    try:
        pool.wait_ready(30)
        saturate()  # warm-up
        for i in range(pairs):
            n, t0 = saturate()
            without.append(n / (time.perf_counter() - t0))
            path = folder / f"ratio{i}.pmrec"
            proc = _recorder("recratio", path, env)
            before = _cpu_s(proc.pid)
            try:
                n, t0 = saturate()
                with_rec.append(n / (time.perf_counter() - t0))
                cpu_during += _cpu_s(proc.pid) - before
                recorded_tasks += n
            finally:
                reaped = _children_cpu_s()
                err = _stop(proc)
                cpu_to_exit += _children_cpu_s() - reaped - before
                recorded_bytes += path.stat().st_size
                path.unlink(missing_ok=True)
            for key, value in _summary_counts(err).items():
                summary[key] += value
    finally:
        pool.shutdown()
    ratios = [w / u for w, u in zip(with_rec, without, strict=True)]
    return {
        "ratio": median(ratios),
        "ratios": ratios,
        "recorded_tasks_per_s": median(with_rec),
        "unrecorded_tasks_per_s": median(without),
        "recorder_cpu_ns_per_task": cpu_during / max(1, recorded_tasks) * 1e9,
        "recorder_cpu_ns_per_task_to_exit": cpu_to_exit / max(1, recorded_tasks) * 1e9,
        "bytes_per_task": recorded_bytes / max(1, summary["tasks"]),
        "seconds": seconds,
        **summary,
    }


def _children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (a recorder's whole life once reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _summary_counts(stderr: str) -> dict[str, int]:
    """Tasks a recorder wrote, frames it dropped, records the pool could not send it.

    From its closing summary (the tasks include the history backfill it received on attach).

    Raises:
        RuntimeError: The summary is missing (the recorder did not end cleanly).
    """
    dropped = re.search(r"([\d,]+) frames dropped by a slow disk", stderr)
    lost = re.search(r"([\d,]+) records the pool could not send", stderr)
    tasks = re.search(r"([\d,]+) tasks,", stderr)
    if dropped is None or lost is None or tasks is None:
        raise RuntimeError(f"poolmon record ended without its summary: {stderr[-500:]}")
    found = {"dropped": dropped, "lost": lost, "tasks": tasks}
    return {key: int(match[1].replace(",", "")) for key, match in found.items()}


def _cpu_s(pid: int) -> float:
    """CPU seconds a process has used (user + system)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def seek_1h(env: dict[str, str], folder: Path, minute_s: float, seeks: int) -> dict[str, Any]:
    """Seek-and-draw times on an hour stretched from a real recorded `minute_s`."""
    from poolmon import Pool
    from poolmon.runtime.recording.reader import RecordingFile
    from poolmon.testing.recordings import stretch

    pool = Pool(2, name="recseek", alerts=False)
    try:
        pool.wait_ready(30)
        minute = folder / "minute.pmrec"
        proc = _recorder("recseek", minute, env)
        _paced(pool, 2000, minute_s, 20)
        time.sleep(1.5)
        _stop(proc)
    finally:
        pool.shutdown()
    hour = folder / "hour.pmrec"
    t0 = time.perf_counter()
    rec = RecordingFile(minute)
    span_s = (rec.last_ns - rec.first_ns) / 1e9 + 1.0
    rec.close()
    stretch(minute, hour, max(1, math.ceil(3600 / span_s)))
    build_s = time.perf_counter() - t0
    figures = asyncio.run(_seek_in_app(hour, seeks))
    figures.update({"stretch_s": build_s, "hour_bytes": hour.stat().st_size})
    return figures


async def _seek_in_app(path: Path, seeks: int) -> dict[str, Any]:
    from poolmon.app.replay import ReplayApp
    from poolmon.runtime.recording.replay import ReplaySource

    t0 = time.perf_counter()
    source = ReplaySource(path)
    open_s = time.perf_counter() - t0
    app = ReplayApp(source, refresh_hz=0)
    times: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        tl = source.timeline
        t0 = time.perf_counter()
        source.seek(tl.end_ns)
        app.refresh_frame()
        await pilot.pause()
        first_pass = time.perf_counter() - t0
        rng = random.Random(15)
        for _ in range(seeks):
            target = rng.randrange(tl.start_ns, tl.end_ns)
            t0 = time.perf_counter()
            source.seek(target)
            app.refresh_frame()
            await pilot.pause()
            times.append((time.perf_counter() - t0) * 1e3)
        snap = source.snapshot(3600)
    checkpoints = source.checkpoint_bytes
    source.stop()
    return {
        "seek_ms": median(times),
        "seek_ms_max": max(times),
        "open_s": open_s,
        "first_pass_s": first_pass,
        "span_s": (tl.end_ns - tl.start_ns) / 1e9,
        "checkpoint_bytes": checkpoints,
        "tasks_in_last_hour": snap.tasks_finished,
    }


def figures(
    quick: bool, *, seek: bool = True
) -> tuple[dict[str, Any], dict[str, float], list[str]]:
    """All three figures (and what they rest on), ratios, notes; `seek=False` skips the hour."""
    tmp = Path(tempfile.mkdtemp(prefix="pmrb", dir="/tmp"))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp))
    before = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(tmp)
    try:
        size = record_size(env, tmp, 100_000, 3.0 if quick else 10.0)
        ratio = throughput_ratio(env, tmp, 2 if quick else 5, 20.0)
        hour = seek_1h(env, tmp, 10.0 if quick else 60.0, 5 if quick else 21) if seek else {}
    finally:
        if before is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = before
        shutil.rmtree(tmp, ignore_errors=True)
    figs = {
        "record_bytes_per_task": round(size["bytes_per_task"], 2),
        "record_tasks_per_s_achieved": round(size["rate"]),
        "record_tasks_recorded": size["tasks"],
        "record_tasks_submitted": size["submitted"],
        "recorded_tasks_per_s": round(ratio["recorded_tasks_per_s"]),
        "unrecorded_tasks_per_s": round(ratio["unrecorded_tasks_per_s"]),
        "throughput_ratio_per_pair": [round(r, 3) for r in ratio["ratios"]],
        "recorder_cpu_ns_per_task_while_timed": round(ratio["recorder_cpu_ns_per_task"]),
        "recorder_cpu_ns_per_task_to_exit": round(ratio["recorder_cpu_ns_per_task_to_exit"]),
        "recorder_dropped_frames_while_timed": ratio["dropped"],
        "records_lost_while_timed": ratio["lost"],
        "record_bytes_per_task_saturated": round(ratio["bytes_per_task"], 2),
    }
    if hour:
        figs.update(
            {
                "replay_seek_ms_1h": round(hour["seek_ms"], 1),
                "replay_seek_ms_1h_max": round(hour["seek_ms_max"], 1),
                "replay_open_s_1h": round(hour["open_s"], 3),
                "replay_first_pass_s_1h": round(hour["first_pass_s"], 2),
                "replay_span_s": round(hour["span_s"]),
                "replay_checkpoint_mib_1h": round(hour["checkpoint_bytes"] / 2**20, 1),
                "replay_hour_mib": round(hour["hour_bytes"] / 2**20, 1),
                "replay_stretch_s": round(hour["stretch_s"], 1),
            }
        )
    ratios = {"throughput_recording_vs_not": round(ratio["ratio"], 3)}
    notes = [
        "the 1-hour recording is a real recorded minute (2,000 tasks/s) repeated with shifted "
        "times and sequence numbers (poolmon.testing.recordings.stretch)",
        "replay_first_pass_s_1h: opening plays nothing; the first pass to the end takes the "
        "checkpoints every 5 s of recording that later seeks restore",
    ]
    if hour and hour["tasks_in_last_hour"] <= 0:
        notes.append("the replayed hour counted no tasks: the figure is not meaningful")
    return figs, ratios, notes
