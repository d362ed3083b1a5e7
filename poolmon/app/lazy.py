"""Screens a key opens, imported when first opened instead of when the app starts.

Why: `poolmon attach` spends about a third of its start-up importing, and the alert, advisor,
tuning and confirmation screens (with their dialogs, tables and the alert model) are not on
the first frame; importing them on first use takes them off the time to the first frame
(docs/BENCHMARKS.md, "attach to the first full 15-minute frame"). A screen that was never
imported has no instance, so `is_open(screen, KIND)` answers without importing anything.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any, Final, TypeGuard

if TYPE_CHECKING:
    from poolmon.screens.alert_actions import AlertActionsScreen
    from poolmon.screens.confirm import ConfirmScreen
    from poolmon.screens.tuning import TuningScreen

ADVISOR: Final = ("poolmon.screens.advisor", "AdvisorScreen")
ALERT_ACTIONS: Final = ("poolmon.screens.alert_actions", "AlertActionsScreen")
ALERTS: Final = ("poolmon.screens.alerts", "AlertsScreen")
EVIDENCE: Final = ("poolmon.screens.evidence", "EvidenceScreen")
TUNING: Final = ("poolmon.screens.tuning", "TuningScreen")


def is_open(obj: object, kind: tuple[str, str]) -> bool:
    """Whether `obj` is a screen of `kind` (False, importing nothing, if it was never opened)."""
    module = sys.modules.get(kind[0])
    return module is not None and isinstance(obj, getattr(module, kind[1]))


def is_alert_actions(obj: object) -> TypeGuard[AlertActionsScreen]:
    """Whether `obj` is a screen with alert actions (the alerts screen is one)."""
    return is_open(obj, ALERT_ACTIONS)


def is_tuning(obj: object) -> TypeGuard[TuningScreen]:
    """Whether `obj` is the tuning screen."""
    return is_open(obj, TUNING)


def screen(kind: tuple[str, str], *args: Any, **kwargs: Any) -> Any:
    """A new screen of `kind`, its module imported now if it was not yet."""
    return getattr(import_module(kind[0]), kind[1])(*args, **kwargs)


def confirm(question: str) -> ConfirmScreen:
    """A yes/no confirmation screen."""
    from poolmon.screens.confirm import ConfirmScreen

    return ConfirmScreen(question)
