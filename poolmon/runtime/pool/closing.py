"""How a pool ends: `shutdown()`, being garbage collected, and interpreter exit.

Why this shape: a pool dropped without `shutdown()` must be collectable, as a
ProcessPoolExecutor is, or it runs until the interpreter exits. So nothing a pool starts
holds the pool: the IO thread runs the engine, which knows nothing of the `Pool` object,
services reach it through a weak proxy, and what must happen when the IO thread finishes (the
terminate event, stopping services) is a function of the engine alone. A finalizer on the
pool then only flags its engine and wakes the IO thread, which winds the pool down exactly as
`shutdown(wait=False)` would: queued work still runs (someone may hold its futures), then
the workers stop. It takes no lock, because the garbage collector may run it in any thread,
the IO thread included, while that thread holds the IO lock.

At interpreter exit every pool still alive is shut down with `wait=True`, and the engines of
collected pools still winding down are waited for, so no worker outlives the interpreter.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poolmon.runtime.pool.engine import Engine
    from poolmon.runtime.pool.pool import Pool

_live: weakref.WeakSet[Pool] = weakref.WeakSet()
_draining: set[Engine] = set()  # engines of collected pools whose IO thread still runs
# (no lock around it: the finalizer may run inside any thread's critical section, and set
# add/discard/copy are atomic under the GIL)


def track(pool: Pool, eng: Engine) -> None:
    """Register a new pool: shut down at exit, wound down when collected."""
    _live.add(pool)
    weakref.finalize(pool, abandon, eng).atexit = False  # exit is `shutdown_all`'s job


def close(eng: Engine, cancel_futures: bool) -> None:
    """Stop accepting work and let the IO thread drain and stop the workers (any thread)."""
    with eng.io_lock:
        if cancel_futures:
            eng.cancel_queued()
        eng.closing = True
        eng.refresh_submit_path()
    eng.wake()
    with eng.space_cond:
        eng.space_cond.notify_all()


def abandon(eng: Engine) -> None:
    """The pool was garbage collected: have its IO thread shut it down (see module doc)."""
    if eng.finished.is_set():
        return
    _draining.add(eng)
    eng.terminate_reason = "collected"
    eng.abandoned = True
    eng.wake()


def engine_finished(eng: Engine) -> None:
    """The IO thread is done: report termination and stop the pool's services, newest first."""
    c = eng.counters
    eng.em.pool_terminate(
        time.monotonic_ns() - eng.started_ns,
        c.results + c.timed_out + c.crashed,
        eng.terminate_reason,
    )
    while eng.services:
        service = eng.services.pop()
        try:
            service.stop()
        except Exception as exc:
            eng.em.error("pool", "warning", type(exc).__qualname__, str(exc))
    _draining.discard(eng)


def shutdown_all() -> None:
    """At interpreter exit, shut every pool down so no worker outlives it.

    Registered with `threading._register_atexit` (as concurrent.futures does): those hooks
    run before `atexit` handlers, in particular before multiprocessing's own exit handler,
    which would otherwise join our (non-daemonic) workers before anyone told them to stop.
    """
    for pool in list(_live):
        pool._eng.terminate_reason = "parent_exit"
        try:
            pool.shutdown(wait=True)
        except Exception:
            pass
    for eng in _draining.copy():
        thread: Any = eng.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()


threading._register_atexit(shutdown_all)  # type: ignore[attr-defined]
