"""Reading settings out of TOML tables while collecting every problem with its line.

`TableReader` is the base of the notify-config parser: each reader takes a key path such as
`("channels", 0, "timeout")`, returns the value or, after recording `file:line: message`, a
usable default, so parsing goes on and one run reports everything wrong in the file.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from poolmon.core.alerts.notify_model import SecretRef
from poolmon.core.alerts.rulefile import format_problem
from poolmon.core.alerts.units import parse_duration

LineOf = Callable[[tuple[str | int, ...]], int | None]
"""The line of a key path, or None (the rule file's `line_of`)."""
Path = tuple[str | int, ...]
"""A key path: table names, array indexes, key names."""


class TableReader:
    """Typed readers over TOML tables that record problems instead of raising."""

    def __init__(self, line_of: LineOf, path: str) -> None:
        self.line_of = line_of
        self.path = path
        self.base_dir = posixpath.dirname(path)
        self.problems: list[str] = []

    def problem(self, at: Path, message: str) -> None:
        """Record `message` at the line of `at` (or its nearest parent that has one)."""
        line = None
        for n in range(len(at), 0, -1):
            line = self.line_of(at[:n])
            if line is not None:
                break
        self.problems.append(format_problem((self.path, line, message)))

    def duration(self, at: Path, table: Mapping[str, Any], default: float, minimum: float) -> float:
        """A duration setting (seconds) no smaller than `minimum`, or `default` if absent."""
        key = str(at[-1])
        if key not in table:
            return default
        raw = table[key]
        try:
            if not isinstance(raw, str | int | float):
                raise ValueError(f"expected a duration like '30s', '5m' or '1h', got {raw!r}")
            value = parse_duration(raw)
        except ValueError as exc:
            self.problem(at, f"{key}: {exc}")
            return default
        if value < minimum:
            self.problem(at, f"{key} must be at least {minimum:g}s, got {value:g}s")
            return default
        return value

    def number(
        self, at: Path, table: Mapping[str, Any], default: float, lo: float, hi: float, *,
        integer: bool = False,
    ) -> float:  # fmt: skip
        """A number in [lo, hi] (an integer where `integer`), or `default` if absent."""
        key = str(at[-1])
        if key not in table:
            return default
        value = table[key]
        numeric = isinstance(value, int) or (not integer and isinstance(value, float))
        if isinstance(value, bool) or not numeric or not lo <= value <= hi:
            what = "an integer" if integer else "a number"
            self.problem(at, f"{key} must be {what} from {lo:g} to {hi:g}, got {value!r}")
            return default
        return float(value)

    def string(
        self, at: Path, table: Mapping[str, Any], default: str = "", *, required: bool = False
    ) -> str:
        """A string setting; a required one missing or empty is a problem."""
        key = str(at[-1])
        value = table.get(key, default)
        if not isinstance(value, str):
            self.problem(at, f"{key} must be a string, got {type(value).__name__}")
            return default
        if required and not value.strip():
            self.problem(at, f"{key} is required")
        return value

    def flag(self, at: Path, table: Mapping[str, Any], default: bool) -> bool:
        """A true/false setting."""
        value = table.get(str(at[-1]), default)
        if not isinstance(value, bool):
            self.problem(at, f"{at[-1]} must be true or false, got {value!r}")
            return default
        return value

    def local_path(self, at: Path, table: Mapping[str, Any], *, required: bool = False) -> str:
        """A file path; relative paths are taken from the alerts file's directory."""
        value = self.string(at, table, required=required)
        if value and not value.startswith(("/", "~")):
            value = posixpath.normpath(posixpath.join(self.base_dir, value))
        return value

    def secret(self, at: Path, table: Mapping[str, Any], what: str) -> SecretRef | None:
        """`WHAT_env` or `WHAT_file` (not both), or None."""
        env = self.string((*at, f"{what}_env"), table)
        file = self.local_path((*at, f"{what}_file"), table)
        if env and file:
            self.problem((*at, f"{what}_file"), f"give {what}_env or {what}_file, not both")
        if env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
            self.problem((*at, f"{what}_env"), f"{what}_env must name an environment variable")
        return SecretRef(env=env) if env else SecretRef(file=file) if file else None
