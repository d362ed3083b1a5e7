"""poolmon: a fast, supervised pool of Python worker processes that monitors itself.

`poolmon.Pool` is a `concurrent.futures.Executor`; every pool serves its telemetry on a Unix
socket that `poolmon attach` (a full-screen terminal app) connects to live.

Importing `poolmon` stays cheap: public names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Pool", "__version__"]

if TYPE_CHECKING:
    from poolmon.runtime.pool import Pool


def __getattr__(name: str) -> Any:
    """Load public names lazily so `import poolmon` does not start importing the runtime."""
    if name == "Pool":
        from poolmon.runtime.pool import Pool

        return Pool
    raise AttributeError(f"module 'poolmon' has no attribute {name!r}")
