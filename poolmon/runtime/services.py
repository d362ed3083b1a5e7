"""The services every pool runs beside its workers: the endpoint, alerting, resources, autotune.

They live here rather than in the pool so the pool's hot path knows nothing about sockets or
/proc: `Pool` calls `start_pool_services(self)` once its workers are up and stops what it got
back, newest first, when it shuts down. A service that fails to start is reported as a
`poolmon.error` event and the pool runs without it — a monitor must never stop the work.

Alerting runs inside the endpoint (an insight hook in its thread), so it starts right after the
endpoint and is stopped last, once the endpoint's thread has ended: its final state save then
cannot race an evaluation. With no endpoint there is no alerting (docs/ALERTS_RUNTIME.md).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from poolmon.core.advisor.autotune import AutotuneConfig
from poolmon.runtime.autotune import HOOK as AUTOTUNE_HOOK
from poolmon.runtime.autotune import AutotuneService, TunablePool
from poolmon.runtime.endpoint.history import History
from poolmon.runtime.endpoint.server import EndpointServer
from poolmon.runtime.endpoint.stacks import Stackable, register_stacks
from poolmon.runtime.endpoint.tuning import Tunable, register_tuning
from poolmon.runtime.heaptrim import HeapTrim, pin_mmap_threshold
from poolmon.runtime.resources.monitor import POOL_WORKER_ID, ResourceMonitor
from poolmon.runtime.telemetry import Telemetry, emit_error_event

if TYPE_CHECKING:
    from poolmon.runtime.alerting.setup import AlertSetup


class ServedPool(TunablePool, Protocol):
    """What the services need from a pool (`poolmon.Pool` provides all of it).

    Its name, size bounds, `closed` and `resize` are auto-tuning's (`TunablePool`) too.
    """

    @property
    def started_at_ns(self) -> int:
        """Wall-clock start time."""
        ...

    @property
    def monitor(self) -> bool | str:
        """True: serve at the default path; a str: at that path; False: no endpoint."""
        ...

    @property
    def telemetry(self) -> Telemetry:
        """The registry the pool emits into."""
        ...

    @property
    def history_sizes(self) -> tuple[int, int]:
        """(rollup seconds, raw task bytes) the endpoint's history keeps."""
        ...

    @property
    def resource_interval_s(self) -> float | None:
        """Resource sampling period, or None for no sampling."""
        ...

    @property
    def alert_setup(self) -> AlertSetup | None:
        """Rules and channels to alert with, or None for no alerting."""
        ...

    @property
    def alert_state_dir(self) -> str | None:
        """Folder of the alert state file (None: the default under $XDG_STATE_HOME)."""
        ...

    def stats(self) -> Any:
        """A `PoolStats` snapshot."""
        ...

    def resize(self, n: int, *, reason: Literal["user", "control", "autotune"] = "user") -> None:
        """Change the number of workers, saying who asked."""
        ...

    def set_task_timeout(self, seconds: float | None) -> None:
        """Set the default per-task timeout."""
        ...

    def set_health_check_interval(self, seconds: float) -> None:
        """Set the heartbeat period."""
        ...

    def recycle_worker(self, worker_id: int) -> None:
        """Replace one worker."""
        ...

    @property
    def autotune_config(self) -> AutotuneConfig:
        """How to auto-tune (`enabled=False`: serve advice, tune only when turned on)."""
        ...


class Stoppable(Protocol):
    """A started service."""

    def stop(self) -> None:
        """Stop it; must not raise."""
        ...


class _EndpointControl:
    """Presents a pool to the endpoint; a monitor's resize is reported with reason "control".

    Every call looks the method up on the pool when it is made: `Pool` hands its services a
    weak proxy, and a bound method stored here would hold the pool itself (a pool dropped
    without shutdown() must stay collectable).
    """

    def __init__(self, pool: ServedPool) -> None:
        self._pool = pool
        self.name = pool.name
        self.started_at_ns = pool.started_at_ns

    def stats(self) -> Any:
        """The pool's `PoolStats` (the endpoint flattens it itself: control.plain_stats)."""
        return self._pool.stats()

    def set_task_timeout(self, seconds: float | None, /) -> None:
        """Set the pool's default per-task timeout."""
        self._pool.set_task_timeout(seconds)

    def set_health_check_interval(self, seconds: float, /) -> None:
        """Set the pool's heartbeat period."""
        self._pool.set_health_check_interval(seconds)

    def recycle_worker(self, worker_id: int, /) -> None:
        """Replace one of the pool's workers."""
        self._pool.recycle_worker(worker_id)

    def resize(self, size: int, /) -> None:
        """Resize on a monitor's behalf; the `poolmon.pool.resize` event says "control"."""
        self._pool.resize(size, reason="control")


class _Stopper:
    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop

    def stop(self) -> None:
        self._stop()


def allowed_uids() -> frozenset[int]:
    """Who may connect: the pool's own uid and poolmon.toml's [endpoint] allow_uids."""
    from poolmon.runtime import config

    return frozenset({os.getuid(), *config.current().get("endpoint", "allow_uids")})


def worker_targets(pool: ServedPool) -> Callable[[], dict[int, int]]:
    """Build the resource sampler's target provider: the pool process and each live worker."""
    pid = os.getpid()

    def targets() -> dict[int, int]:
        found = {POOL_WORKER_ID: pid}
        for worker in pool.stats().workers:
            if worker.pid:
                found[worker.worker_id] = worker.pid
        return found

    return targets


def start_pool_services(pool: ServedPool) -> list[Stoppable]:
    """Start the endpoint (unless `pool.monitor` is False) and the resource sampler.

    The endpoint carries the auto-tuner and the advisor commands (`poolmon.runtime.autotune`).

    Returns:
        The started services, in start order; stop them newest first.
    """
    started: list[Stoppable] = []
    endpoint: EndpointServer | None = None
    if pool.monitor is not False:
        path = None if pool.monitor is True else pool.monitor
        try:
            seconds, raw_bytes = pool.history_sizes
            history = History(rollup_seconds=seconds, raw_task_bytes=raw_bytes)
            endpoint = EndpointServer(
                _EndpointControl(pool),
                pool.telemetry,
                path=path,
                allow_uids=allowed_uids(),
                history=history,
            )
            if isinstance(pool, Tunable):
                register_tuning(endpoint.commands, pool)
            if isinstance(pool, Stackable):
                register_stacks(endpoint.commands, pool)
            endpoint.start()
            started.append(_Stopper(endpoint.close))
            pin_mmap_threshold()
            endpoint.insight.add_hook("heap-trim", HeapTrim())
            tuner = AutotuneService(
                pool,
                pool.telemetry,
                pool.autotune_config,
                endpoint.insight.aggregator,
                endpoint.commands,
            )
            endpoint.insight.add_hook(AUTOTUNE_HOOK, tuner.hook)
            started.append(_Stopper(tuner.stop))
        except Exception as exc:  # the pool must run even if its endpoint cannot
            message = f"monitor endpoint not started: {exc}"
            _report(pool, "endpoint", "error", message, exc)
            # asked for by the user (a path, or the default): a telemetry event alone went
            # unseen, and `poolmon attach` then found no pool or another pool at that path
            warnings.warn(
                f"poolmon pool {pool.name!r}: {message}", RuntimeWarning, stacklevel=_user_level()
            )
    alerting = _start_alerting(pool, endpoint)
    if alerting is not None:
        started.insert(0, alerting)  # stopped last: after the endpoint's thread has ended
    interval = pool.resource_interval_s
    if interval is not None:
        sampler = ResourceMonitor(
            worker_targets(pool),
            pool.telemetry,
            pool.name,
            internals=endpoint.internals if endpoint is not None else None,
            interval_s=interval,
        )
        sampler.start()
        started.append(_Stopper(sampler.stop))
    return started


def _user_level() -> int:
    """`stacklevel` of the first frame outside poolmon: the user's line creating the pool."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The `poolmon` package folder (its frames are not the user's)."""


def _report(
    pool: ServedPool, category: str, severity: str, message: str, exc: Exception | None = None
) -> None:
    """A service could not start (or runs degraded): one `poolmon.error`, and the pool goes on."""
    emit_error_event(
        category,
        severity,
        pool=pool.name,
        error=exc,
        error_type=None if exc is not None else "ConfigError",
        message=message,
        telemetry=pool.telemetry,
    )


def _start_alerting(pool: ServedPool, endpoint: EndpointServer | None) -> Stoppable | None:
    """Start the alert service on the endpoint; None when off or impossible (then said so)."""
    setup = pool.alert_setup
    if setup is None:
        return None
    if endpoint is None:
        if setup.explicit:
            _report(
                pool,
                "alerts",
                "warning",
                f"alerts={setup.source!r} ignored: alerting runs in the monitor endpoint, and "
                "this pool has none (monitor=False, or it failed to start)",
            )
        return None
    from poolmon.runtime.alerting.setup import start_alert_service

    try:
        return start_alert_service(
            setup,
            pool=pool.name,
            telemetry=pool.telemetry,
            endpoint=endpoint,
            state_dir=pool.alert_state_dir,
        )
    except Exception as exc:  # the pool must run even if alerting cannot
        _report(pool, "alerts", "error", f"alerting not started: {exc}", exc)
        return None
