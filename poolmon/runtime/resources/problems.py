"""How the resource monitor tells operators something went wrong without flooding them.

The monitor runs every second, so a broken `/proc` file or a provider that keeps raising would
otherwise produce one `poolmon.error` a second forever. Two rules keep it readable: a problem
with a stable identity (a bad internals field, an unparsable pid) is reported once; a whole
sweep that keeps failing is reported on the 1st, 2nd, 4th, 8th ... failure in a row, so the
count in the message still shows it is ongoing. Reporting itself never raises.
"""

from __future__ import annotations

from collections.abc import Hashable

from poolmon.runtime.telemetry import Telemetry, emit_error_event

_MAX_REMEMBERED = 1024


class ProblemReporter:
    """Emit `poolmon.error` events (category "resources") with repeat suppression."""

    def __init__(self, telemetry: Telemetry, pool: str | None) -> None:
        """Report to `telemetry`, tagging every event with `pool`."""
        self._telemetry = telemetry
        self._pool = pool
        self._seen: set[Hashable] = set()
        self._streak = 0

    def sweep_failed(self, exc: BaseException) -> None:
        """Count a failed sweep; report it when the streak length is a power of two."""
        self._streak += 1
        streak = self._streak
        if streak & (streak - 1) == 0:
            self.report(exc, message=f"resource sweep failed ({streak} in a row): {exc}")

    def sweep_succeeded(self) -> None:
        """End a failure streak."""
        self._streak = 0

    def report_once(
        self,
        key: Hashable,
        exc: BaseException | None,
        *,
        error_type: str | None = None,
        message: str | None = None,
        worker_id: int | None = None,
    ) -> None:
        """Report a problem the first time `key` is seen (a bad file stays bad every second)."""
        if key in self._seen:
            return
        if len(self._seen) >= _MAX_REMEMBERED:
            self._seen.clear()
        self._seen.add(key)
        self.report(exc, error_type=error_type, message=message, worker_id=worker_id)

    def report(
        self,
        exc: BaseException | None,
        *,
        error_type: str | None = None,
        message: str | None = None,
        worker_id: int | None = None,
    ) -> None:
        """Emit one `poolmon.error` now; swallow anything reporting itself raises."""
        try:
            emit_error_event(
                "resources",
                "warning",
                pool=self._pool,
                error=exc,
                error_type=error_type,
                message=message,
                worker_id=worker_id,
                telemetry=self._telemetry,
            )
        except Exception:  # reporting must never take the monitor down
            pass
