"""Fixtures for endpoint tests: a pool stand-in, a private registry, a server on a short path."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from endpoint_fakes import FakePool

from poolmon.runtime.endpoint import EndpointServer
from poolmon.runtime.telemetry import Telemetry


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pm", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def pool() -> FakePool:
    return FakePool()


@pytest.fixture
def make_server(
    short_dir: Path, telemetry: Telemetry, pool: FakePool
) -> Iterator[Callable[..., EndpointServer]]:
    servers: list[EndpointServer] = []

    def make(**kwargs: Any) -> EndpointServer:
        kwargs.setdefault("path", short_dir / "s" / f"{pool.name}.sock")
        server = EndpointServer(pool, telemetry, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., EndpointServer]) -> EndpointServer:
    return make_server(heartbeat_interval_s=0.2)
