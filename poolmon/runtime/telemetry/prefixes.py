"""Handler registrations and how their dotted prefixes match event names.

Why its own module: matching is the one rule every handler relies on, so it is stated once,
here: a prefix matches whole dotted segments (``"poolmon.worker"`` matches
``"poolmon.worker.exit"``, not ``"poolmon.workers"``), ``""`` matches every event, and only a
non-empty prefix opts a handler into per-task rows expanded from batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Handler = Callable[[str, Mapping[str, int | float], Mapping[str, Any]], None]
"""A per-event handler: ``(name, measurements, metadata) -> None``, run in the emitting thread."""


@dataclass(frozen=True, slots=True)
class Registration:
    """One attached handler: its id, the prefixes it asked for, and the callable."""

    handler_id: str
    prefixes: tuple[str, ...]
    handler: Handler

    def matches(self, name: str) -> bool:
        """True when one of the prefixes covers `name` (``""`` covers everything)."""
        for prefix in self.prefixes:
            if not prefix or name == prefix or name.startswith(prefix + "."):
                return True
        return False

    def names_tasks(self, name: str) -> bool:
        """True when a non-empty prefix covers `name`: only those get rows expanded."""
        for prefix in self.prefixes:
            if prefix and (name == prefix or name.startswith(prefix + ".")):
                return True
        return False


def normalise_prefixes(prefixes: str | Sequence[str]) -> tuple[str, ...]:
    """Turn the `attach` argument into a tuple of clean prefixes, or explain what is wrong."""
    items = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
    if not items:
        raise ValueError("attach needs at least one prefix ('' matches every event)")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"event prefixes are dotted strings, got {item!r}")
        if item.startswith(".") or item.endswith(".") or ".." in item:
            raise ValueError(f"malformed event prefix {item!r}: use 'poolmon.worker', not dots")
    return items
