"""The configuration's layers: defaults < file < environment < arguments, and their merge.

Each layer maps `(section, key)` to a `Setting` that remembers where it came from (`file:line`,
the variable's name, the flag), so `poolmon config show` can answer "why is refresh 2?" and an
error about a value can point at the line or variable that set it. Parsing collects every
problem of a layer before raising, as compilers do: one run shows all the mistakes. The file's
TOML is read by `tomllib`; line numbers come from the alert rule files' line index, and unknown
keys get the same did-you-mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from poolmon.core.alerts.tomllines import TomlSyntaxError, parse_toml
from poolmon.core.config.schema import BY_NAME, KEYS, SECTIONS, Key, section_keys
from poolmon.core.config.values import BadValue, check, from_text
from poolmon.core.errors import ConfigError

if TYPE_CHECKING:
    from poolmon.core.alerts.rulefile import Problem

ENV_PREFIX = "POOLMON_"


def did_you_mean(word: str, choices: Any) -> str:
    """`poolmon.core.alerts.rules.did_you_mean`, imported only when a name is wrong.

    The rule engine it lives in is not needed to read a correct configuration, and importing
    it was ~50 ms of `poolmon attach`'s start-up.
    """
    from poolmon.core.alerts.rules import did_you_mean as suggest

    return suggest(word, choices)


FILE_VARIABLE = "POOLMON_CONFIG"
"""The variable naming the configuration file (not a setting itself)."""


class ConfigFileError(ConfigError):
    """A configuration has problems; `.problems` lists them, `str()` is `where:line: message`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        from poolmon.core.alerts.rulefile import format_problem

        super().__init__("\n".join(format_problem(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Setting:
    """One effective value and its origin.

    Attributes:
        value: The checked value (None: decided at run time, see the key's `default_text`).
        source: "default", "file", "env" or "argument".
        where: `path:line`, the variable's name or the flag; "" for a default.
    """

    value: object
    source: str
    where: str = ""

    def origin(self) -> str:
        """`default`, `file poolmon.toml:3`, `env POOLMON_APP_REFRESH` or `argument --refresh`."""
        return self.source if not self.where else f"{self.source} {self.where}"


Layer = dict[tuple[str, str], Setting]


def parse_file(text: str, path: str) -> Layer:
    """The settings of one `poolmon.toml` (ConfigFileError listing every problem)."""
    try:
        doc, lines = parse_toml(text)
    except TomlSyntaxError as exc:
        raise ConfigFileError([(path, exc.line, exc.message)]) from None
    problems: list[Problem] = []
    layer: Layer = {}
    for section, table in doc.items():
        at = lines.line_of((section,))
        if section not in SECTIONS:
            msg = f"unknown section [{section}]{did_you_mean(section, SECTIONS)}"
            problems.append((path, at, msg))
            continue
        if not isinstance(table, dict):
            problems.append((path, at, f"{section} must be a table: write [{section}]"))
            continue
        for name, raw in table.items():
            line = lines.line_of((section, name))
            key = BY_NAME.get((section, name))
            if key is None:
                hint = did_you_mean(name, section_keys(section))
                problems.append((path, line, f"unknown key {name!r} in [{section}]{hint}"))
                continue
            try:
                value = check(key, raw)
            except BadValue as exc:
                problems.append((path, line, str(exc)))
                continue
            layer[(section, name)] = Setting(value, "file", f"{path}:{line}" if line else path)
    problems.extend(cross_problems(layer, path))
    if problems:
        problems.sort(key=lambda p: (p[1] is None, p[1] or 0))
        raise ConfigFileError(problems)
    return layer


def parse_env(environ: Mapping[str, str]) -> Layer:
    """Settings from `POOLMON_<SECTION>_<KEY>` variables (ConfigFileError for bad ones).

    Only variables whose section is one of ours are read, so unrelated `POOLMON_...` names (a
    channel's `password_env`, say) are left alone; an unknown key in a known section is an
    error with a suggestion, and no variable's value is ever repeated for a secret.
    """
    problems: list[Problem] = []
    layer: Layer = {}
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX) or var == FILE_VARIABLE:
            continue
        section, _, name = var[len(ENV_PREFIX) :].lower().partition("_")
        if section not in SECTIONS or not name:
            continue
        key = BY_NAME.get((section, name))
        if key is None:
            options = [k.env for k in KEYS if k.section == section]
            problems.append((var, None, f"unknown setting{did_you_mean(var, options)}"))
            continue
        try:
            layer[(section, name)] = Setting(from_text(key, environ[var]), "env", var)
        except BadValue as exc:
            problems.append((var, None, str(exc)))
    problems.extend(cross_problems(layer, "environment"))
    if problems:
        raise ConfigFileError(problems)
    return layer


def parse_argument(key: Key, value: object, flag: str) -> Setting:
    """A command-line argument as a checked `Setting` (ConfigError naming the flag)."""
    try:
        return Setting(check(key, value), "argument", flag)
    except BadValue as exc:
        raise ConfigError(f"{flag}: {exc}") from None


def cross_problems(layer: Layer, where: str) -> list[Problem]:
    """Problems between keys of one layer (sizes that cannot all hold)."""
    got = {k[1]: s.value for k, s in layer.items() if k[0] == "pool"}
    lo, size, hi = got.get("min_size"), got.get("max_workers"), got.get("max_size")
    out: list[Problem] = []
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        out.append((where, None, f"pool.min_size ({lo}) is above pool.max_size ({hi})"))
    if isinstance(size, int) and isinstance(hi, int) and size > hi:
        out.append((where, None, f"pool.max_workers ({size}) is above pool.max_size ({hi})"))
    if isinstance(size, int) and isinstance(lo, int) and size < lo:
        out.append((where, None, f"pool.max_workers ({size}) is below pool.min_size ({lo})"))
    return out


def defaults() -> Layer:
    """Every key at its default."""
    return {(k.section, k.name): Setting(k.default, "default") for k in KEYS}


@dataclass(frozen=True, slots=True)
class Effective:
    """The merged configuration: every key's value and where it came from.

    Attributes:
        settings: `(section, key)` -> Setting, for every key of the schema.
        file: The configuration file read, or None.
        found_by: How the file was found ("--config", "POOLMON_CONFIG", "current folder", ...).
    """

    settings: Mapping[tuple[str, str], Setting]
    file: str | None = None
    found_by: str = ""

    def get(self, section: str, name: str) -> Any:
        """The effective value of `section.name`."""
        return self.settings[(section, name)].value

    def setting(self, section: str, name: str) -> Setting:
        """The effective `Setting` (value and origin) of `section.name`."""
        return self.settings[(section, name)]

    def section(self, section: str, *, set_only: bool = False) -> dict[str, Any]:
        """`{key: value}` of one section; with `set_only`, only keys not at their default."""
        return {
            n: s.value
            for (sec, n), s in self.settings.items()
            if sec == section and not (set_only and s.source == "default")
        }

    def with_arguments(self, arguments: Mapping[tuple[str, str], tuple[object, str]]) -> Effective:
        """The configuration with command-line arguments on top (`{(s, k): (value, flag)}`).

        A None value means "not given" and changes nothing, so argparse defaults of None can be
        passed straight in.
        """
        merged = dict(self.settings)
        for (section, name), (value, flag) in arguments.items():
            if value is not None:
                merged[(section, name)] = parse_argument(BY_NAME[(section, name)], value, flag)
        return replace(self, settings=merged)


def merge(
    file_layer: Layer, env_layer: Layer, file: str | None = None, found_by: str = ""
) -> Effective:
    """Merge defaults < file < environment, and the cross-key checks over the result."""
    settings = {**defaults(), **file_layer, **env_layer}
    problems = cross_problems(settings, "configuration (file and environment together)")
    if problems:
        raise ConfigFileError(problems)
    return Effective(settings, file, found_by)
