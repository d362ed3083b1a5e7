"""Which alerts to announce with a toast: each newly firing alert, once per alert id.

A firing alert that nobody has handled is news the first time this monitor sees it (including
the ones already firing when it attaches); an alert already acknowledged, silenced or inhibited
is not (somebody is on it, or it was muted on purpose). Each alert id is announced at most
once: a resolved alert that fires again gets a new id, so it is announced again, which is
what an operator wants. Ids leave the memory when they leave the pool's alert state, so it
stays as small as that state.
"""

from __future__ import annotations

from poolmon.core.alerts.model import FIRING, Alert, AlertsView, sort_key


class FiringAnnouncer:
    """Remembers which alert ids were announced (see module doc)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def news(self, view: AlertsView | None) -> list[Alert]:
        """The alerts in `view` to announce now (most severe first), each only once."""
        if view is None:
            return []
        firing = {a.id: a for a in view.alerts if a.state == FIRING}
        new = [a for a in firing.values() if a.id not in self._seen and a.display_state == FIRING]
        # handled ones are remembered too: an ack or silence going away is not a new firing
        self._seen = set(firing)
        return sorted(new, key=sort_key)
