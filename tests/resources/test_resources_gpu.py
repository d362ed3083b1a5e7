"""NVML GPU figures: absent without pynvml or a GPU (this machine), present with a fake NVML."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from poolmon.core.catalog import RESOURCE_PROCESS
from poolmon.runtime.resources import NvmlGpu, ProcessSampler, ResourceMonitor
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing.capture import capture_events


class FakeNvml(types.ModuleType):
    """Just enough of pynvml: one device running this process."""

    def __init__(self, name: str, *, devices: int = 1, fail_reads: bool = False) -> None:
        super().__init__(name)
        self.devices = devices
        self.fail_reads = fail_reads
        self.shutdowns = 0
        self.reads = 0

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return self.devices

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return f"gpu{index}"

    def nvmlDeviceGetComputeRunningProcesses(self, handle: str) -> list[Any]:
        self.reads += 1
        if self.fail_reads:
            raise RuntimeError("NVMLError_Unknown")
        return [
            SimpleNamespace(pid=os.getpid(), usedGpuMemory=256 << 20),
            SimpleNamespace(pid=1, usedGpuMemory=None),
        ]

    def nvmlDeviceGetProcessUtilization(self, handle: str, since: int) -> list[Any]:
        return [SimpleNamespace(pid=os.getpid(), smUtil=42, memUtil=7, timeStamp=since + 1)]


@pytest.fixture
def fake_nvml() -> Iterator[FakeNvml]:
    module = FakeNvml("fake_pynvml_for_tests")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_absent_without_pynvml_is_none_not_an_error() -> None:
    if importlib.util.find_spec("pynvml") is None:  # this machine: no pynvml, no GPU
        assert NvmlGpu.probe() is None
    assert NvmlGpu.probe("no_such_module_anywhere") is None


def test_absent_without_a_device(fake_nvml: FakeNvml) -> None:
    fake_nvml.devices = 0
    assert NvmlGpu.probe(fake_nvml.__name__) is None
    assert fake_nvml.shutdowns == 1


def test_monitor_without_gpu_emits_no_gpu_fields() -> None:
    tel = Telemetry()
    with capture_events(RESOURCE_PROCESS, telemetry=tel) as got:
        ResourceMonitor(lambda: {-1: os.getpid()}, tel, "p").sweep()
    assert got.of(RESOURCE_PROCESS)
    assert not any(k.startswith("gpu") for k in got.of(RESOURCE_PROCESS)[0].measurements)


def test_present_gpu_adds_memory_and_utilization(fake_nvml: FakeNvml) -> None:
    gpu = NvmlGpu.probe(fake_nvml.__name__)
    assert gpu is not None
    tel = Telemetry()
    sampler = ProcessSampler(gpu=gpu)
    monitor = ResourceMonitor(lambda: {-1: os.getpid(), 0: 1}, tel, "p", sampler=sampler)
    with capture_events(RESOURCE_PROCESS, telemetry=tel) as got:
        monitor.sweep()
    by_worker = {e.metadata["worker_id"]: e.measurements for e in got.of(RESOURCE_PROCESS)}
    assert by_worker[-1]["gpu_memory_bytes"] == 256 << 20
    assert by_worker[-1]["gpu_percent"] == 42.0
    assert "gpu_memory_bytes" not in by_worker.get(0, {})  # NVML did not know its memory
    sampler.close()
    assert fake_nvml.shutdowns == 1


def test_failing_nvml_disables_itself_after_a_few_errors(fake_nvml: FakeNvml) -> None:
    fake_nvml.fail_reads = True
    gpu = NvmlGpu.probe(fake_nvml.__name__)
    assert gpu is not None
    for _ in range(5):
        assert gpu.sample({os.getpid()}) == {}
    assert not gpu.enabled
    assert fake_nvml.reads == 3  # stopped asking once disabled
    assert fake_nvml.shutdowns == 1
