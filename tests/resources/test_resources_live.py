"""The sampler and the exit helpers against real child processes.

Each child is a tiny Python program driven over stdin, so a test can measure it before and
after it allocates memory or opens files; every child is killed and reaped when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poolmon.runtime.resources import (
    ExitStatus,
    MachineSampler,
    ProcessSample,
    ProcessSampler,
    from_returncode,
    from_wait_status,
    reap,
)
from poolmon.runtime.resources.psutil_backend import PsutilBackend

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="zombie/procfs checks are Linux")

CHILD = r"""
import os, sys
held = []
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "alloc":
        held.append(b"\x01" * (200 << 20))
    elif cmd == "open":
        held.extend(open(os.devnull, "rb") for _ in range(500))
    print("done", flush=True)
"""

MB = 1 << 20


class Child:
    """A driven child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.readline() == "ready"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def do(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        assert self.readline() == "done"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def child() -> Iterator[Callable[[], Child]]:
    made: list[Child] = []

    def make() -> Child:
        c = Child()
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def wait_for_sample(
    sampler: ProcessSampler, pid: int, predicate: Callable[[ProcessSample], bool]
) -> ProcessSample:
    deadline = time.monotonic() + 10
    while True:
        samples = sampler.sample({0: pid}).samples
        if samples and predicate(samples[0]):
            return samples[0]
        assert time.monotonic() < deadline, f"pid {pid} never matched; last: {samples}"
        time.sleep(0.02)


@pytest.mark.parametrize("backend", ["procfs", "psutil"])
def test_allocating_200_mb_shows_in_rss_and_uss(child: Callable[[], Child], backend: str) -> None:
    sampler = ProcessSampler(backend=PsutilBackend() if backend == "psutil" else None)
    c = child()
    before = sampler.sample({0: c.pid}, with_uss=True).samples[0]
    c.do("alloc")
    after = sampler.sample({0: c.pid}, with_uss=True).samples[0]
    assert before.rss_bytes < 100 * MB
    assert after.rss_bytes - before.rss_bytes >= 195 * MB
    assert after.uss_bytes is not None
    assert before.uss_bytes is not None
    assert after.uss_bytes - before.uss_bytes >= 195 * MB


@pytest.mark.parametrize("backend", ["procfs", "psutil"])
def test_opening_500_files_shows_in_fd_count(child: Callable[[], Child], backend: str) -> None:
    sampler = ProcessSampler(backend=PsutilBackend() if backend == "psutil" else None)
    c = child()
    before = sampler.sample({0: c.pid}).samples[0].fds
    c.do("open")
    after = sampler.sample({0: c.pid}).samples[0].fds
    assert before is not None
    assert after == before + 500


def test_sigkilled_child_is_a_zombie_with_its_signal_until_reaped(
    child: Callable[[], Child],
) -> None:
    sampler = ProcessSampler()
    c = child()
    os.kill(c.pid, signal.SIGKILL)
    zombie = wait_for_sample(sampler, c.pid, lambda s: s.is_zombie)
    assert zombie.exit is not None
    assert zombie.exit.signal == signal.SIGKILL
    assert zombie.metadata("p")["signal"] == signal.SIGKILL
    assert sampler.still_zombie(c.pid)
    # The owner reaps it; its returncode converts to the same fields.
    assert from_returncode(c.proc.wait(10)) == zombie.exit
    assert not sampler.still_zombie(c.pid)
    sweep = sampler.sample({0: c.pid})
    assert sweep.samples == ()
    assert sweep.vanished == ((0, c.pid),)


def test_process_exiting_between_samples_is_no_error(child: Callable[[], Child]) -> None:
    sampler = ProcessSampler()
    a, b = child(), child()
    targets = {-1: os.getpid(), 0: a.pid, 1: b.pid}
    first = sampler.sample(targets, with_uss=True)
    assert len(first.samples) == 3
    a.close()
    second = sampler.sample(targets, with_uss=True)
    assert second.errors == ()
    assert second.vanished == ((0, a.pid),)
    assert [s.worker_id for s in second.samples] == [-1, 1]


def spawn(code: str) -> int:
    return os.posix_spawn(sys.executable, [sys.executable, "-c", code], dict(os.environ))


def reap_eventually(pid: int) -> ExitStatus:
    deadline = time.monotonic() + 10
    while (status := reap(pid)) is None:
        assert time.monotonic() < deadline, f"child {pid} never exited"
        time.sleep(0.01)
    return status


def test_reap_reports_exit_code_and_signal() -> None:
    exited = reap_eventually(spawn("raise SystemExit(3)"))
    killed = reap_eventually(spawn("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    assert (exited.exit_code, exited.signal) == (3, None)
    assert (killed.exit_code, killed.signal) == (None, 9)
    assert reap(os.getpid()) is None  # not our child: nothing to reap, no exception


def test_conversions_agree_with_subprocess() -> None:
    assert from_returncode(0).as_metadata() == {"exit_code": 0, "signal": None}
    assert from_returncode(-15).killed
    assert from_returncode(-15).signal == 15
    with pytest.raises(TypeError, match="not finished"):
        from_returncode(None)
    assert from_wait_status(3 << 8).exit_code == 3
    assert from_wait_status(signal.SIGKILL | 0x80).core_dumped
    with pytest.raises(ValueError, match="stop or continue"):
        from_wait_status(0x137F)  # WIFSTOPPED by SIGSTOP


def test_psutil_backend_agrees_with_procfs_on_this_process() -> None:
    raw = ProcessSampler().sample({-1: os.getpid()}).samples[0]
    ps = ProcessSampler(backend=PsutilBackend()).sample({-1: os.getpid()}).samples[0]
    assert ps.status in {"running", "sleeping"}
    assert abs(ps.rss_bytes - raw.rss_bytes) < 16 * MB
    assert ps.threads == raw.threads
    assert ps.fds is not None
    assert raw.fds is not None
    assert abs(ps.fds - raw.fds) <= 2
    assert abs(ps.uptime_ns - raw.uptime_ns) < 2e9
    assert ProcessSampler(backend=PsutilBackend()).sample({0: 2**22 + 12345}).vanished


def test_without_procfs_both_samplers_fall_back_to_psutil(tmp_path: Path) -> None:
    sampler = ProcessSampler(str(tmp_path))  # no <root>/stat: not a procfs
    assert sampler.backend == "psutil"
    assert sampler.sample({-1: os.getpid()}).samples[0].rss_bytes > 0
    machine = MachineSampler(str(tmp_path))
    assert machine.backend == "psutil"
    m = machine.sample()
    assert 0 <= m.cpu_percent <= 100
    assert 0 < m.memory_available_bytes <= m.memory_total_bytes
    assert 0 <= m.swap_percent <= 100


def test_psutil_backend_reports_a_zombie(child: Callable[[], Child]) -> None:
    sampler = ProcessSampler(backend=PsutilBackend())
    c = child()
    os.kill(c.pid, signal.SIGKILL)
    zombie = wait_for_sample(sampler, c.pid, lambda s: s.is_zombie)
    assert zombie.status == "zombie"
    assert zombie.exit is None  # psutil does not expose the recorded exit status
    assert sampler.still_zombie(c.pid)
