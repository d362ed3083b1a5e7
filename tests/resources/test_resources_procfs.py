"""The raw /proc parser against a fixture tree of awkward files, and the rates built on it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from poolmon.runtime.resources.machine import (
    MachineSampler,
    memory_from_meminfo,
    parse_cpu_line,
    parse_meminfo,
)
from poolmon.runtime.resources.procfs import (
    ProcfsBackend,
    ProcfsFormatError,
    find_counter,
    parse_private_bytes,
    parse_stat_fields,
)
from poolmon.runtime.resources.sampler import ProcessSampler
from poolmon.testing import ManualClock

FIXTURE = Path(__file__).parent / "fixtures" / "proc"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """A writable copy of the fixture tree, so a test can move counters forward."""
    root = tmp_path / "proc"
    shutil.copytree(FIXTURE, root)
    return root


def write_stat(root: Path, pid: int, *, utime: int, stime: int, start: int = 50000) -> None:
    fields = ["0"] * 50
    fields[0], fields[1] = "S", "1"
    fields[11], fields[12], fields[17], fields[19], fields[21] = (
        str(utime),
        str(stime),
        "4",
        str(start),
        "2560",
    )
    (root / str(pid) / "stat").write_text(f"{pid} (my (odd) worker) x) " + " ".join(fields))


def test_comm_with_spaces_and_parentheses_is_skipped_correctly() -> None:
    raw = ProcfsBackend(str(FIXTURE))
    raw.begin_sweep()
    p = raw.read(100)
    assert p is not None
    assert p.status == "sleeping"
    assert p.threads == 4
    assert p.rss_bytes == 2560 * PAGE
    assert p.cpu_user_s == pytest.approx(300 / TICKS)
    assert p.cpu_system_s == pytest.approx(100 / TICKS)
    assert p.uptime_s == pytest.approx(1000.0 - 50000 / TICKS)
    assert (p.ctx_voluntary, p.ctx_involuntary) == (1234, 56)
    assert (p.io_read_bytes, p.io_write_bytes) == (4096, 8192)
    assert p.fds == 3  # a fixture directory: counted by listing, never by its st_size
    assert p.exit is None
    assert raw.read_uss(100) == (1000 + 3000) * 1024


def test_zombie_reports_the_exit_the_kernel_recorded() -> None:
    raw = ProcfsBackend(str(FIXTURE))
    raw.begin_sweep()
    z = raw.read(200)
    assert z is not None
    assert z.status == "zombie"
    assert z.exit is not None
    assert z.exit.signal == 9
    assert z.exit.exit_code is None
    assert z.io_read_bytes is None  # no io file: unknown, not zero
    assert z.fds is None
    assert raw.read_uss(200) is None  # empty smaps_rollup: no memory map


def test_old_kernel_without_exit_field_gives_no_exit() -> None:
    raw = ProcfsBackend(str(FIXTURE))
    raw.begin_sweep()
    z = raw.read(300)
    assert z is not None
    assert z.status == "zombie"
    assert z.exit is None
    assert z.ctx_voluntary is None  # no status file


def test_missing_process_is_none_and_malformed_raises() -> None:
    raw = ProcfsBackend(str(FIXTURE))
    raw.begin_sweep()
    assert raw.read(999_999) is None
    with pytest.raises(ProcfsFormatError, match="closing comm"):
        raw.read(400)


def test_sweep_keeps_going_past_bad_and_missing_pids() -> None:
    sampler = ProcessSampler(str(FIXTURE), clock=ManualClock())
    sweep = sampler.sample({1: 100, 2: 400, 3: 999_999, 4: 200})
    assert [s.worker_id for s in sweep.samples] == [1, 4]
    assert sweep.vanished == ((3, 999_999),)
    assert len(sweep.errors) == 1
    assert sweep.errors[0][:2] == (2, 400)
    assert "ProcfsFormatError" in sweep.errors[0][2]
    assert [z.pid for z in sweep.zombies] == [200]
    meta = sweep.zombies[0].metadata("p")
    assert meta["status"] == "zombie"
    assert meta["signal"] == 9
    assert meta["exit_code"] is None


def test_first_sample_is_the_average_since_start_then_rates_between_samples(
    proc: Path,
) -> None:
    clock = ManualClock()
    sampler = ProcessSampler(str(proc), clock=clock)
    first = sampler.sample({0: 100}).samples[0]
    uptime = 1000.0 - 50000 / TICKS
    assert first.cpu_user_percent == pytest.approx(100 * (300 / TICKS) / uptime)
    assert first.cpu_percent == pytest.approx(100 * (400 / TICKS) / uptime)

    write_stat(proc, 100, utime=300 + TICKS // 2, stime=100 + TICKS // 4)
    clock.advance(1.0)
    second = sampler.sample({0: 100}).samples[0]
    assert second.cpu_user_percent == pytest.approx(100 * (TICKS // 2) / TICKS)
    assert second.cpu_system_percent == pytest.approx(100 * (TICKS // 4) / TICKS)
    assert second.cpu_percent == pytest.approx(second.cpu_user_percent + second.cpu_system_percent)


def test_reused_pid_does_not_produce_a_negative_rate(proc: Path) -> None:
    clock = ManualClock()
    sampler = ProcessSampler(str(proc), clock=clock)
    sampler.sample({0: 100})
    # The old process died; a new one got pid 100, started later, has used less CPU.
    write_stat(proc, 100, utime=10, stime=0, start=90000)
    clock.advance(1.0)
    s = sampler.sample({0: 100}).samples[0]
    assert s.cpu_user_percent == pytest.approx(100 * (10 / TICKS) / (1000.0 - 90000 / TICKS))
    assert s.cpu_system_percent == 0.0


def test_uss_is_carried_between_slow_measurements(proc: Path) -> None:
    clock = ManualClock()
    sampler = ProcessSampler(str(proc), clock=clock)
    assert sampler.sample({0: 100}).samples[0].uss_bytes is None
    assert sampler.sample({0: 100}, with_uss=True).samples[0].uss_bytes == 4000 * 1024
    clock.advance(1.0)
    assert sampler.sample({0: 100}).samples[0].uss_bytes == 4000 * 1024
    measurements = sampler.sample({0: 100}).samples[0].measurements()
    assert measurements["uss_bytes"] == 4000 * 1024
    assert "gpu_memory_bytes" not in measurements  # absent, never zero


def test_parsers_reject_garbage_with_a_clear_error() -> None:
    with pytest.raises(ProcfsFormatError, match="fields"):
        parse_stat_fields(b"1 (x) S 1 2")
    with pytest.raises(ProcfsFormatError, match="unreadable value"):
        find_counter(b"a\nread_bytes: lots\n", b"\nread_bytes:")
    assert (
        find_counter(b"x\nnonvoluntary_ctxt_switches:\t5\n", b"\nvoluntary_ctxt_switches:") is None
    )
    with pytest.raises(ProcfsFormatError, match="cpu line"):
        parse_cpu_line(b"intr 1 2 3\n")
    with pytest.raises(ProcfsFormatError, match="MemTotal"):
        memory_from_meminfo({})
    assert parse_private_bytes(b"Rss: 5 kB\n") is None


def test_machine_from_fixture_then_delta(proc: Path) -> None:
    machine = MachineSampler(str(proc))
    assert machine.backend == "procfs"
    first = machine.sample()
    # Since boot: busy = user+nice+system+irq+softirq+steal = 1610 of 10010.
    assert first.cpu_percent == pytest.approx(100 * 1610 / 10010)
    assert (first.load1, first.load5, first.load15) == (0.52, 0.34, 0.25)
    assert first.memory_total_bytes == 8_000_000 * 1024
    assert first.memory_available_bytes == 6_000_000 * 1024
    assert first.memory_percent == pytest.approx(25.0)
    assert first.swap_percent == pytest.approx(25.0)
    (proc / "stat").write_text("cpu  1300 50 600 8600 400 10 20 30 0 0\n")
    assert machine.sample().cpu_percent == pytest.approx(100 * 400 / 1000)


def test_meminfo_without_memavailable_estimates_like_psutil() -> None:
    fields = parse_meminfo(
        b"MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\nHugePages_Total: 3\n"
    )
    assert fields["HugePages_Total"] == 3  # no unit: not scaled
    percent, available, total, swap = memory_from_meminfo(fields)
    assert (available, total, swap) == (400 * 1024, 1000 * 1024, 0.0)
    assert percent == pytest.approx(60.0)
