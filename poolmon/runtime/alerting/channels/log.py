"""The log channel: one record per notification on the `poolmon.alerts` logger.

For people who already ship their application's logs somewhere (journald, a log collector): the
level follows the most severe firing alert (critical -> ERROR, warning -> WARNING, info and
resolutions -> INFO), the message is the title and one clause per alert, and the generic webhook
body rides along as `record.poolmon_notification` for structured handlers.
"""

from __future__ import annotations

import logging
from typing import Final

from poolmon.core.alerts.model import SEVERITIES
from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_render import generic_body, number, title

LOGGER: Final = "poolmon.alerts"
_LEVELS: Final = {"critical": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}


class LogChannel:
    """Writes notifications to the `poolmon.alerts` logger."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger = logging.getLogger(LOGGER)

    def send(self, n: Notification) -> None:
        """Log `n` at the level of its most severe firing alert."""
        worst = max((SEVERITIES.index(a.severity) for a in n.firing), default=0)
        level = _LEVELS[SEVERITIES[worst]] if n.firing else logging.INFO
        clauses = [
            f"{a.state} [{a.severity}] {a.summary} (value {number(a.value)}, id {a.id})"
            for a in (*n.firing, *n.resolved)
        ]
        self._logger.log(
            level,
            "%s: %s",
            title(n),
            "; ".join(clauses),
            extra={"poolmon_notification": generic_body(n)},
        )

    def close(self) -> None:
        """Nothing to release."""
