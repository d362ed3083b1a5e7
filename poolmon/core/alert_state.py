"""The monitor's copy of the pool's alert state, from `poolmon.alert.state` events.

The pool evaluates alert rules itself and sends its whole state (`AlertsView.to_wire()` in the
event's `view` metadata) whenever it changes and every few seconds; the endpoint's history
keeps the latest, so a monitor attaching late gets it at once. A monitor keeps one view:

* the highest revision wins: a view older than the one held (a lower revision, e.g. a
  history backfill arriving after a live update) is ignored; an equal revision replaces the
  one held, because the periodic resend carries fresher values and times for the same state;
* a new pool instance (a different pid or start time) starts over, whatever its revisions,
  since a restarted pool numbers them afresh;
* a malformed view is counted in `malformed` and ignored: a bad frame never costs the view
  already held, and never raises into the ingest loop.

`view` stays None until the pool has sent any alert state: the app says "alerting: no data"
then, never "no active alerts", which would claim something nobody has checked.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from poolmon.core.alerts.model import AlertsView
from poolmon.core.errors import ProtocolError


class AlertState:
    """The latest `AlertsView` of one pool instance (see module doc)."""

    def __init__(self) -> None:
        self.view: AlertsView | None = None
        """The view with the highest revision seen from the current instance, or None."""
        self.malformed = 0
        """Views that could not be decoded (ignored)."""
        self.stale = 0
        """Views ignored because a higher revision was already held."""
        self._instance: Hashable = None

    def ingest(self, wire: Any, instance: Hashable) -> bool:
        """Take a `view` from a `poolmon.alert.state` event.

        Args:
            wire: The event's `view` metadata (`AlertsView.to_wire()`).
            instance: Identifies the pool instance that sent it (pid, start time); a change
                drops the view held before the new one is considered.

        Returns:
            Whether the view held changed.
        """
        if instance != self._instance:
            self.reset()
            self._instance = instance
        try:
            view = AlertsView.from_wire(wire)
        except ProtocolError:
            self.malformed += 1
            return False
        if self.view is not None and view.revision < self.view.revision:
            self.stale += 1
            return False
        self.view = view
        return True

    def reset(self) -> None:
        """Forget the view (the pool restarted); the counters are kept."""
        self.view = None
        self._instance = None
