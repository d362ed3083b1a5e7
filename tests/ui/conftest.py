"""Pilot-test setup: apps fed a seeded stream through the real aggregator, timer off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from poolmon.app.app import PoolmonApp
from poolmon.runtime.source import CommandResult
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec


def resize_ok(name: str, args: Any) -> CommandResult:
    """A cooperative pool: it reports the size it was asked for."""
    return CommandResult(True, {"size": int(args["size"])})


@pytest.fixture
def ui_app() -> Callable[..., tuple[PoolmonApp, FeedSource]]:
    """Build `(app, source)` with `seconds` of the demo stream already ingested."""

    def build(
        *, seconds: int = 60, read_only: bool = False, spec: StreamSpec | None = None
    ) -> tuple[PoolmonApp, FeedSource]:
        clock = ManualClock()
        source = FeedSource(clock, read_only=read_only, responder=resize_ok)
        generator = StreamGenerator(spec or StreamSpec(), clock.time_ns())
        source.attach(generator.pool_info())
        source.play(generator, seconds)
        return PoolmonApp(source, refresh_hz=0, read_only=read_only), source

    return build
