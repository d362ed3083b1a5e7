"""What a dropped connection means: the pool exited, the link broke, or the pool restarted.

A monitor that only says "disconnected" leaves the user guessing whether the pool is dead or
hung. The words come from what is known for sure: a CLOSE with reason `shutdown` or a
`poolmon.pool.terminate` event (a clean exit), a socket that is gone or that nobody listens
on, or a pid that no longer exists on this host (the process is gone); otherwise the pool may
well still be running and only the connection was lost. The monitor (poolmon.runtime.monitor)
adds when the last data is from.
"""

from __future__ import annotations

import os
import socket
import time

from poolmon.core.snapshot import PoolInfo

EXITED = "pool exited"
LOST = "connection lost"


def pid_alive(pid: int) -> bool | None:
    """Whether a process with this pid exists on this host (None: cannot tell)."""
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


def drop_kind(reason: str, pool: PoolInfo, terminated: bool) -> str:
    """`pool exited (...)` or `connection lost (...)` for a drop with the client's `reason`."""
    if terminated or "closed the connection (shutdown)" in reason:
        return f"{EXITED} (clean shutdown)"
    if "no pool socket at" in reason:
        return f"{EXITED} (its socket is gone)"
    if "stale socket" in reason:
        return f"{EXITED} (nothing listens on its socket)"
    local = not pool.host or pool.host == socket.gethostname()
    alive = pid_alive(pool.pid) if local else None
    if alive is False:
        return f"{EXITED} (process {pool.pid} is gone)"
    if alive:
        return f"{LOST} (pool process {pool.pid} still running)"
    return LOST


def since(ns: int, now_ns: int) -> str:
    """`12:03:04 UTC, 35s ago`: when the last data is from."""
    clock = time.strftime("%H:%M:%S", time.gmtime(ns / 1e9))
    secs = max(0, (now_ns - ns) // 1_000_000_000)
    if secs < 60:
        ago = f"{secs}s"
    elif secs < 3600:
        ago = f"{secs // 60}m{secs % 60:02d}s"
    else:
        ago = f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    return f"{clock} UTC, {ago} ago"
