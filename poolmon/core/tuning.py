"""Run-time settings as a pool describes them, and how a value for one is parsed and checked.

Why in core: the pool (which owns the settings and has the last word), `poolmon tune` and the
app's tuning screen must agree on what a valid value is, so that an operator who types a value
sees the same reason everywhere, and the UI never hard-codes a range: each `SettingSpec` carries
the range or choices the pool itself allows. Pure: no IO, no clock.

Wire form (the `settings` command's rows, docs/PROTOCOL.md section 6): `{key, value, min, max,
choices, unit, help, live, kind, nullable, none_means}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from poolmon.core.errors import ConfigError

Value = int | float | str | None
"""A setting's value: a number, a choice, or None (e.g. "no timeout")."""

KINDS: Final = ("int", "float", "choice")
"""What a setting's value is: a whole number, a number, or one of `choices`."""

OP_TIMEOUT_PREFIX: Final = "op_timeout_s."
"""Per-operation timeouts are the settings `op_timeout_s.<op name>`."""

MAX_OP_NAME: Final = 200
"""Longest operation name a per-operation timeout may name."""

NONE_WORDS: Final = frozenset({"none", "off", "null", "-", "—"})
"""What an operator may type for "no value" (no timeout, no bound) where that is allowed."""

SIZE_KEYS: Final = ("min_size", "size", "max_size")
"""Settings that must stay ordered: min_size <= size <= max_size."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One run-time setting: its value now, what values the pool accepts, and what it does.

    Attributes:
        key: The setting's name (`size`, `task_timeout_s`, `op_timeout_s.resize_image`, ...).
        value: Its current value (None where `nullable`: no timeout, no bound).
        kind: "int", "float" or "choice" (one of `choices`).
        min: Smallest accepted number (None: no lower bound).
        max: Largest accepted number (None: no upper bound).
        choices: For "choice" settings (and numbers limited to a few values): the accepted values.
        unit: What the number counts (s, workers, tasks, MiB), for display.
        help: One line saying what the setting does.
        live: True when a change applies at once; False when it needs a pool restart.
        nullable: None is accepted.
        none_means: What None means here ("no timeout", "unbounded").
    """

    key: str
    value: Value
    kind: str = "float"
    min: float | None = None
    max: float | None = None
    choices: tuple[Value, ...] = ()
    unit: str = ""
    help: str = ""
    live: bool = True
    nullable: bool = False
    none_means: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The plain map sent in the `settings` reply."""
        return {
            "key": self.key,
            "value": self.value,
            "min": self.min,
            "max": self.max,
            "choices": list(self.choices),
            "unit": self.unit,
            "help": self.help,
            "live": self.live,
            "kind": self.kind,
            "nullable": self.nullable,
            "none_means": self.none_means,
        }

    @classmethod
    def from_wire(cls, row: Mapping[str, Any]) -> SettingSpec:
        """Read one `settings` row; a malformed row raises ConfigError naming the problem."""
        key = row.get("key")
        if not isinstance(key, str) or not key:
            raise ConfigError(f"a setting without a key: {dict(row)!r}")
        kind = row.get("kind", "float")
        if kind not in KINDS:
            raise ConfigError(f"setting {key!r} has an unknown kind {kind!r}")
        choices = row.get("choices") or ()
        return cls(
            key=key,
            value=row.get("value"),
            kind=str(kind),
            min=_opt_number(row.get("min")),
            max=_opt_number(row.get("max")),
            choices=tuple(choices),
            unit=str(row.get("unit") or ""),
            help=str(row.get("help") or ""),
            live=bool(row.get("live", True)),
            nullable=bool(row.get("nullable", False)),
            none_means=str(row.get("none_means") or ""),
        )

    def range_text(self, *, unit: bool = False) -> str:
        """The accepted values, short: `1..16`, `raise | block`, `0.01..604800 s or none`.

        With `unit`, the unit follows the numbers (`1..8 workers`), as in a refusal's reason.
        """
        if self.choices:
            text = " | ".join(format_value(c) for c in self.choices)
        elif self.min is not None and self.max is not None:
            text = f"{format_value(self.min)}..{format_value(self.max)}"
        elif self.min is not None:
            text = f">= {format_value(self.min)}"
        elif self.max is not None:
            text = f"<= {format_value(self.max)}"
        else:
            text = "any"
        if unit and self.unit and not self.choices:
            text += f" {self.unit}"
        if self.nullable:
            text += " or none"
        return text

    def parse(self, text: str) -> Value:
        """Turn what an operator typed into a checked value; ConfigError says why not."""
        return self.check(self.convert(text))

    def convert(self, text: str) -> Value:
        """What an operator typed as a typed value, not yet range-checked (see `check`)."""
        raw = text.strip()
        if raw.lower() in NONE_WORDS or (raw == "" and self.nullable):
            if self.nullable:
                return None
            raise ConfigError(f"{self.key} needs a value ({self.range_text()})")
        if raw == "":
            raise ConfigError(f"{self.key} needs a value ({self.range_text()})")
        value: Value
        if self.kind == "choice" and all(isinstance(c, str) for c in self.choices):
            value = raw
        else:
            try:
                value = int(raw) if self.kind == "int" else float(raw)
            except ValueError:
                kind = "a whole number" if self.kind == "int" else "a number"
                raise ConfigError(
                    f"{self.key} must be {kind} ({self.range_text()}), got {raw!r}"
                ) from None
        return value

    def check(self, value: object) -> Value:
        """Check a typed value (from the wire or `parse`); returns it normalised or raises."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"{self.key} cannot be none ({self.range_text()})")
        if self.choices and self.kind == "choice":
            for choice in self.choices:
                if value == choice and type(value) is not bool:
                    return choice
            raise ConfigError(f"{self.key} must be one of {self.range_text()}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.key} must be a number ({self.range_text()}), got {value!r}")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ConfigError(f"{self.key} must be a whole number, got {value!r}")
                value = int(value)
        elif not math.isfinite(value):
            raise ConfigError(f"{self.key} must be a finite number, got {value!r}")
        else:
            value = float(value)
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            if self.min is not None and self.max is not None:
                where = f"outside {self.range_text(unit=True)}"
            elif self.min is not None:
                where = f"below the minimum, {format_value(self.min)}"
            else:
                where = f"above the maximum, {format_value(self.max)}"
            raise ConfigError(f"{self.key}={format_value(value)} is {where}")
        return value


def format_value(value: Value) -> str:
    """A value as an operator reads it: `none`, `4`, `0.5`, `30`, `raise`."""
    if value is None:
        return "none"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)


def op_timeout_spec(op: str, template: SettingSpec, value: Value = None) -> SettingSpec:
    """The setting `op_timeout_s.<op>`: the same range as the default task timeout."""
    if not op or len(op) > MAX_OP_NAME:
        raise ConfigError(
            f"a per-operation timeout needs an operation name of 1..{MAX_OP_NAME} characters, "
            f"got {op!r}"
        )
    return replace(
        template,
        key=OP_TIMEOUT_PREFIX + op,
        value=value,
        help=f"timeout for tasks of op {op!r}; overrides task_timeout_s (none: use it)",
        none_means="use task_timeout_s",
    )


def validate_changes(
    specs: Mapping[str, SettingSpec], changes: Mapping[str, object]
) -> dict[str, Value]:
    """Check a whole `set` at once: every value, then the size ordering of the end state.

    All or nothing: any problem raises ConfigError listing every reason (nothing may be applied
    then). An unknown `op_timeout_s.<op>` key is accepted with the range of `task_timeout_s`
    (an operation may not have run yet). Returns the normalised values, in the given order.
    """
    if not isinstance(changes, Mapping) or not changes:
        raise ConfigError("set needs at least one KEY=VALUE (a map of setting -> value)")
    reasons: list[str] = []
    out: dict[str, Value] = {}
    for key, raw in changes.items():
        try:
            spec = spec_for(specs, key)
            if not spec.live:
                raise ConfigError(f"{key} cannot change while the pool runs (needs a restart)")
            if (
                key == "size"
                and "max_size" in specs
                and ("max_size" in changes or "min_size" in changes)
            ):
                # the bounds change in this same set: the ordering check below has the last word
                spec = replace(spec, min=1, max=specs["max_size"].max)
            out[key] = spec.check(raw)
        except ConfigError as exc:
            reasons.append(str(exc))
    if not reasons and any(k in out for k in SIZE_KEYS):
        lo, size, hi = (out.get(k, specs[k].value if k in specs else None) for k in SIZE_KEYS)
        if isinstance(lo, int) and isinstance(size, int) and size < lo:
            reasons.append(f"size {size} would be below min_size {lo}")
        if isinstance(hi, int) and isinstance(size, int) and size > hi:
            reasons.append(f"size {size} would be above max_size {hi}")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            reasons.append(f"min_size {lo} would be above max_size {hi}")
    if reasons:
        raise ConfigError("; ".join(reasons))
    return out


def spec_for(specs: Mapping[str, SettingSpec], key: object) -> SettingSpec:
    """The spec of `key`, or a fresh per-operation timeout spec; ConfigError if unknown."""
    if not isinstance(key, str):
        raise ConfigError(f"a setting key must be a string, got {key!r}")
    spec = specs.get(key)
    if spec is not None:
        return spec
    if key.startswith(OP_TIMEOUT_PREFIX) and "task_timeout_s" in specs:
        return op_timeout_spec(key[len(OP_TIMEOUT_PREFIX) :], specs["task_timeout_s"])
    known = ", ".join(k for k in specs if not k.startswith(OP_TIMEOUT_PREFIX))
    raise ConfigError(f"unknown setting {key!r}; known: {known}, {OP_TIMEOUT_PREFIX}<op>")


def _opt_number(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
