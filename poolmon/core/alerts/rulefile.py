"""Rule files: TOML text in, a validated `RuleFile` out, or every problem with its line.

`parse_rule_file(text, path)` reads `[[rules]]`, `[[inhibit]]` and `include_defaults`, and
leaves `[notify]` and `[[channels]]` to the notifier (it reads `RuleFile.doc` and
`RuleFile.line_of`). Nothing is accepted half-way: every problem in the file (TOML syntax,
unknown keys and metrics with a did-you-mean, bad durations, bad severities, composite cycles,
duplicate names, a `by` the metric does not have...) is collected and raised together as one
`RuleFileError`, whose text is one `file:line: message` per problem, as compilers print them.

With `include_defaults = false` (the default) the file replaces the built-in pack; with `true`
its rules are added to it, a file rule replacing a default of the same name. The schema and
examples are in docs/ALERTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from poolmon.core.alerts import schema
from poolmon.core.alerts.defaults import default_rules
from poolmon.core.alerts.model import Matcher
from poolmon.core.alerts.rules import InhibitRule, Rule, RuleSet, did_you_mean, set_problems
from poolmon.core.alerts.tomllines import TomlSyntaxError, parse_toml
from poolmon.core.errors import ConfigError, PoolmonError

TOP_KEYS: Final = ("include_defaults", "rules", "inhibit", "notify", "channels")
"""Top-level keys of a rule file (`notify` and `channels` belong to the notifier)."""
INHIBIT_KEYS: Final = ("source_matchers", "target_matchers", "equal")

Problem = tuple[str, int | None, str]
"""`(file, line, message)`; line None when the problem has no place (an empty file...)."""


class RuleFileError(PoolmonError):
    """A rule file has problems; `.problems` lists them, `str()` prints `file:line: message`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(format_problem(p) for p in problems))


def format_problem(p: Problem) -> str:
    """`file:line: message` (or `file: message` without a line)."""
    path, line, msg = p
    return f"{path}:{line}: {msg}" if line is not None else f"{path}: {msg}"


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A parsed rule file.

    Attributes:
        rules: The rules to evaluate (the defaults merged in when `include_defaults`).
        doc: The whole TOML document (the notifier reads `notify` and `channels` from it).
        line_of: Line of a key path such as `("channels", 0, "url")`, or None.
        path: Where the text came from (for messages).
    """

    rules: RuleSet
    doc: dict[str, Any]
    line_of: Callable[[tuple[str | int, ...]], int | None]
    path: str


def parse_rule_file(text: str, path: str = "<rules>") -> RuleFile:
    """Parse and validate rule-file text (RuleFileError listing every problem)."""
    try:
        doc, lines = parse_toml(text)
    except TomlSyntaxError as exc:
        raise RuleFileError([(path, exc.line, exc.message)]) from None
    problems: list[Problem] = []

    def problem(where: tuple[str | int, ...], msg: str) -> None:
        problems.append((path, lines.line_of(where), msg))

    for key in doc:
        if key not in TOP_KEYS:
            problem((key,), f"unknown top-level key {key!r}{did_you_mean(key, TOP_KEYS)}")
    include = doc.get("include_defaults", False)
    if not isinstance(include, bool):
        problem(("include_defaults",), "include_defaults must be true or false")
        include = False
    rules, where = _rules(doc, problem)
    inhibit = _inhibit(doc, problem)
    if include:
        defaults = default_rules()
        mine = {r.name for r in rules}
        kept = [r for r in defaults.rules if r.name not in mine]
        where = [*(None for _ in kept), *where]
        rules = kept + rules
        inhibit = [*defaults.inhibit, *inhibit]
    for i, field, msg in set_problems(rules):
        at = where[i]
        if at is None:
            problem((), f"default rule {rules[i].name}: {msg}")
        else:
            problem(("rules", at, *schema.key_path(field, rules[i])), msg)
    if problems:
        problems.sort(key=lambda p: (p[1] is None, p[1] or 0))
        raise RuleFileError(problems)
    try:
        ruleset = RuleSet(tuple(rules), tuple(inhibit))
    except ConfigError as exc:  # set_problems found nothing, so this is a bug: say so plainly
        raise RuleFileError([(path, None, str(exc))]) from None
    return RuleFile(ruleset, doc, lines.line_of, path)


def _rules(
    doc: Mapping[str, Any], problem: Callable[[tuple[str | int, ...], str], None]
) -> tuple[list[Rule], list[int | None]]:
    raw = doc.get("rules", [])
    if not isinstance(raw, list):
        problem(("rules",), "rules must be an array of tables: write [[rules]] headers")
        return [], []
    out: list[Rule] = []
    where: list[int | None] = []
    for i, table in enumerate(raw):
        if not isinstance(table, dict):
            problem(("rules", i), "each rule must be a table ([[rules]])")
            continue
        rule = schema.rule_from_table(table, _within(problem, ("rules", i)))
        if rule is not None:
            out.append(rule)
            where.append(i)
    return out, where


def _within(
    problem: Callable[[tuple[str | int, ...], str], None], prefix: tuple[str | int, ...]
) -> schema.Report:
    """A reporter for problems inside one table of the file."""
    return lambda key, msg: problem((*prefix, *key), msg)


def _inhibit(
    doc: Mapping[str, Any], problem: Callable[[tuple[str | int, ...], str], None]
) -> list[InhibitRule]:
    raw = doc.get("inhibit", [])
    if not isinstance(raw, list):
        problem(("inhibit",), "inhibit must be an array of tables: write [[inhibit]] headers")
        return []
    out = []
    for i, table in enumerate(raw):
        if not isinstance(table, dict):
            problem(("inhibit", i), "each inhibit rule must be a table ([[inhibit]])")
            continue
        ok = True
        for key in table:
            if key not in INHIBIT_KEYS:
                problem(
                    ("inhibit", i, key), f"unknown key {key!r}{did_you_mean(key, INHIBIT_KEYS)}"
                )
                ok = False
        sides: dict[str, tuple[Matcher, ...]] = {}
        for side in ("source_matchers", "target_matchers"):
            items = table.get(side)
            if not isinstance(items, list) or not items:
                problem(("inhibit", i, side), f"{side} must be a non-empty list of 'label=value'")
                ok = False
                continue
            parsed = []
            for j, text in enumerate(items):
                try:
                    parsed.append(Matcher.parse(str(text)))
                except ValueError as exc:
                    problem(("inhibit", i, side, j), str(exc))
                    ok = False
            sides[side] = tuple(parsed)
        equal = table.get("equal", [])
        if not isinstance(equal, list) or not all(isinstance(e, str) for e in equal):
            problem(("inhibit", i, "equal"), "equal must be a list of label names")
            ok = False
        if ok:
            out.append(
                InhibitRule(sides["source_matchers"], sides["target_matchers"], tuple(equal))
            )
    return out
