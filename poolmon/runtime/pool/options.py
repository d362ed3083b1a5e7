"""Per-call options, kept out of the user's keyword arguments.

ProcessPoolExecutor passes every `**kwargs` through to the function, so a pool that took
`timeout=` or `session=` as keywords of `submit` would steal them from the user. Instead
`pool.options(session="abc", timeout=2.0).submit(fn, *args, **kwargs)` returns a bound view
whose `submit`/`map`/`run` carry a frozen `TaskOptions`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from poolmon.core.errors import ConfigError

if TYPE_CHECKING:
    from poolmon.runtime.pool.future import PoolFuture
    from poolmon.runtime.pool.pool import Pool

Affinity = Literal["hint", "strict"]


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """What one call asks of the pool beyond running the function.

    Attributes:
        session: Route this task to the worker bound to this session id (affinity).
        affinity: "hint" (prefer the bound worker, fall back to an idle one) or "strict" (wait
            for it); None uses the pool's `session_affinity`.
        timeout: Seconds the task may run once started; None uses the pool's `task_timeout`;
            0 or less is refused. When exceeded the worker is killed and the task fails with
            `TaskTimeout`.
        idempotent: The task may safely run again; required for `retries`.
        retries: How many times to re-run an idempotent task lost to a crash or timeout.
        op: Operation name shown by monitors instead of the function's qualified name.
    """

    session: str | None = None
    affinity: Affinity | None = None
    timeout: float | None = None
    idempotent: bool = False
    retries: int = 0
    op: str | None = None

    def __post_init__(self) -> None:
        if self.session is not None and not isinstance(self.session, str):
            raise ConfigError(f"session must be a str, got {type(self.session).__name__}")
        if self.affinity not in (None, "hint", "strict"):
            raise ConfigError(f"affinity must be 'hint' or 'strict', got {self.affinity!r}")
        if self.timeout is not None and not (
            isinstance(self.timeout, int | float)
            and math.isfinite(self.timeout)
            and self.timeout > 0
        ):
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if not isinstance(self.retries, int) or self.retries < 0 or self.retries > 100:
            raise ConfigError(f"retries must be an int in 0..100, got {self.retries!r}")
        if self.retries and not self.idempotent:
            raise ConfigError(
                "retries need idempotent=True: only work that may safely run twice is retried"
            )


class BoundPool:
    """A view of a pool whose calls all carry the same `TaskOptions`."""

    __slots__ = ("_opts", "_pool")

    def __init__(self, pool: Pool, opts: TaskOptions) -> None:
        self._pool = pool
        self._opts = opts

    @property
    def task_options(self) -> TaskOptions:
        """The options every call through this view carries."""
        return self._opts

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> PoolFuture:
        """`Pool.submit` with these options."""
        return self._pool._submit(fn, args, kwargs, self._opts)

    def map(
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[Any]:
        """`Pool.map` with these options."""
        return self._pool._map(fn, iterables, timeout, chunksize, self._opts)

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Await the result of `fn(*args, **kwargs)` from asyncio code."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))
