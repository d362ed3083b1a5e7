"""Alert rules and inhibit rules as plain, validated values: what a rule file or the defaults say.

Five kinds, each reading one metric from `poolmon.core.alerts.metrics` per instance:

* `threshold`: the metric over `window` compared with `value` (`>`, `>=`, `<`, `<=`, `==`,
  `!=`), or with a band: `outside`/`inside` `[lo, hi]`.
* `rate`: the metric's rate of change per `per` (default a minute), the least-squares slope
  of its samples over `span`; `relative = true` divides by the mean level (growth in % per
  `per`), e.g. RSS growing 10 %/h.
* `anomaly`: the metric against its own recent baseline: median and MAD of its samples over
  `baseline` (the newest `window` left out), firing outside `median ± max(deviations * MAD /
  0.6745, margin * |median|)` once the baseline spans `warmup` (metrics-anchors §2.2, §2.6).
* `absence`: the metric has no data over `window` (or, for event counts, counted nothing).
* `composite`: `all` or `any` of the named rules have a firing instance.

Every rule may carry a guard, `when`: another metric compared with a value (split the same way
when that metric allows it, else pool-wide), which must hold too, e.g. "no task finished in
2m *when* tasks are queued" or "error rate > 5 % *when* at least 20 tasks finished".

A `RuleSet` orders rules so composites come after what they combine, refuses duplicate names,
unknown references and cycles, and carries Alertmanager-style inhibit rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from poolmon.core.alerts.metrics import MAX_WINDOW_S, METRICS
from poolmon.core.alerts.model import SEVERITIES, Labels, Matcher
from poolmon.core.errors import ConfigError

KINDS: Final = ("threshold", "rate", "anomaly", "absence", "composite")
"""Rule kinds."""
COMPARE_OPS: Final = (">", ">=", "<", "<=", "==", "!=")
"""Comparisons of a value with one number."""
BAND_OPS: Final = ("outside", "inside")
"""Comparisons of a value with a `[lo, hi]` band."""
DIRECTIONS: Final = ("above", "below", "both")
"""Which side of its baseline an anomaly rule fires on."""
MODES: Final = ("all", "any")
"""How a composite combines its rules."""
BY_LABELS: Final = ("op", "worker", "slot")
"""Labels a rule can split its instances by (`slot`: a worker's place in the pool, which its
replacement takes; a worker id is never reused)."""
RESERVED_LABELS: Final = ("alertname", "pool", "severity", "op", "worker", "slot")
"""Labels the engine sets; a rule's static labels may not override them."""
ANNOTATION_FIELDS: Final = ("value", "threshold", "window", "metric", "rule", "for")
"""`{name}` placeholders an annotation may use besides `{labels.NAME}`."""

Bound = float | tuple[float, float]
"""A comparison's right side: a number, or `(lo, hi)` for the band operators."""


@dataclass(frozen=True, slots=True)
class Guard:
    """A precondition: `metric` over `window_s` (None: the rule's window) `op` `value`."""

    metric: str
    op: str
    value: float
    window_s: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule (see module doc for the kinds; durations in seconds).

    Attributes:
        name: Unique within the set; also the alert's `alertname` label.
        kind: One of `KINDS`.
        metric: What it reads (empty for composites).
        by: Label to split instances by (`op`, `worker`), or None for one pool-wide instance.
        window_s: Window the metric is read over (for rate/anomaly: each sample's window).
        op: Comparison for threshold and rate rules.
        value: Threshold (a number, or `(lo, hi)` for outside/inside).
        for_s: How long the condition must hold before pending turns firing.
        keep_firing_for_s: How long a firing alert stays firing after the condition clears.
        resolve: Hysteresis: a firing alert stays firing while its value still passes this
            (e.g. fire above 5 %, resolve only below 3 %); None: the firing threshold.
        severity: info, warning or critical.
        labels: Static labels added to every instance.
        annotations: summary/description/... templates (`{value}`, `{threshold}`,
            `{labels.op}`, ...).
        when: Optional guard that must hold too.
        span_s: Rate rules: how far back the slope looks.
        per_s: Rate rules: the time unit of the rate (60: per minute).
        relative: Rate rules: divide the slope by the mean level.
        baseline_s, warmup_s, deviations, margin, direction: Anomaly rules (module doc).
        mode, rules: Composite rules: all/any of these rule names.
    """

    name: str
    kind: str
    metric: str = ""
    by: str | None = None
    window_s: int = 60
    op: str = ">"
    value: Bound = 0.0
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    resolve: Bound | None = None
    severity: str = "warning"
    labels: Labels = ()
    annotations: Labels = ()
    when: Guard | None = None
    span_s: int = 600
    per_s: float = 60.0
    relative: bool = False
    baseline_s: int = 3600
    warmup_s: int = 600
    deviations: float = 3.5
    margin: float = 0.5
    direction: str = "above"
    mode: str = "all"
    rules: tuple[str, ...] = ()

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with this rule on its own, as `(field, message)` pairs."""
        out: list[tuple[str, str]] = []
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            out.append(("name", f"rule name {self.name!r} must be letters, digits, - and _"))
        if self.kind not in KINDS:
            out.append(("kind", f"unknown kind {self.kind!r}; one of {', '.join(KINDS)}"))
            return out
        if self.severity not in SEVERITIES:
            out.append(("severity", f"severity {self.severity!r} must be one of {SEVERITIES}"))
        for name in ("for_s", "keep_firing_for_s"):
            if getattr(self, name) < 0:
                out.append((name.removesuffix("_s"), "a duration must be >= 0"))
        for k, _ in self.labels:
            if k in RESERVED_LABELS:
                out.append(("labels", f"label {k!r} is set by the engine; pick another name"))
        if self.kind == "composite":
            if self.mode not in MODES:
                out.append(("mode", f"mode {self.mode!r} must be 'all' or 'any'"))
            if not self.rules:
                out.append(("rules", "a composite names at least one rule"))
            if self.metric:
                out.append(("metric", "a composite has no metric; it combines `rules`"))
            if self.by is not None and self.by not in BY_LABELS:
                out.append(("by", f"by {self.by!r} must be one of {', '.join(BY_LABELS)}"))
            return out
        spec = METRICS.get(self.metric)
        if spec is None:
            out.append(("metric", unknown_metric(self.metric)))
        elif self.by is not None and self.by not in spec.by:
            can = ", ".join(spec.by) or "nothing (pool-wide only)"
            out.append(("by", f"metric {self.metric!r} cannot be split by {self.by!r}; by: {can}"))
        if self.by is not None and self.by not in BY_LABELS:
            out.append(("by", f"by {self.by!r} must be one of {', '.join(BY_LABELS)}"))
        if not 1 <= self.window_s <= MAX_WINDOW_S:
            out.append(("window", f"window must be 1s..1h, got {self.window_s}s"))
        if self.kind in ("threshold", "rate"):
            out.extend(_bound_problems("value", self.op, self.value))
            if self.resolve is not None:
                out.extend(_bound_problems("resolve", self.op, self.resolve))
        if self.kind == "rate":
            if not 2 <= self.span_s <= MAX_WINDOW_S:
                out.append(("span", f"span must be 2s..1h, got {self.span_s}s"))
            if self.per_s <= 0:
                out.append(("per", "per must be > 0"))
        if self.kind == "anomaly":
            if not 60 <= self.baseline_s <= 86400:
                out.append(("baseline", f"baseline must be 1m..1d, got {self.baseline_s}s"))
            if not 0 <= self.warmup_s <= self.baseline_s:
                out.append(("warmup", "warmup must be between 0 and the baseline"))
            if self.deviations <= 0:
                out.append(("deviations", "deviations must be > 0"))
            if self.margin < 0:
                out.append(("margin", "margin must be >= 0"))
            if self.direction not in DIRECTIONS:
                out.append(("direction", f"direction must be one of {', '.join(DIRECTIONS)}"))
        if self.when is not None:
            g = self.when
            if g.metric not in METRICS:
                out.append(("when", unknown_metric(g.metric)))
            if g.op not in COMPARE_OPS:
                out.append(("when", f"guard op {g.op!r} must be one of {' '.join(COMPARE_OPS)}"))
            if g.window_s is not None and not 1 <= g.window_s <= MAX_WINDOW_S:
                out.append(("when", f"guard window must be 1s..1h, got {g.window_s}s"))
        return out

    def annotation_problems(self) -> list[tuple[str, str]]:
        """Placeholders in annotations that no instance of this rule can fill."""
        known = {"alertname", "pool", "severity", *(k for k, _ in self.labels)}
        if self.by:
            known.add(self.by)
        out = []
        for key, text in self.annotations:
            for name in placeholders(text):
                if name.startswith("labels."):
                    if name[len("labels.") :] not in known:
                        out.append(
                            (
                                key,
                                f"{{{name}}} names a label this rule's alerts do not have; "
                                f"they have {', '.join(sorted(known))}",
                            )
                        )
                elif name not in ANNOTATION_FIELDS:
                    out.append(
                        (
                            key,
                            f"unknown placeholder {{{name}}}; use "
                            f"{', '.join('{' + f + '}' for f in ANNOTATION_FIELDS)} or "
                            "{labels.NAME}",
                        )
                    )
        return out


def placeholders(text: str) -> list[str]:
    """The `{name}` placeholders in an annotation template (`{{`/`}}` are literal braces)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i : i + 2] in ("{{", "}}"):
            i += 2
            continue
        if c == "{":
            j = text.find("}", i)
            if j < 0:
                break
            out.append(text[i + 1 : j].strip())
            i = j + 1
            continue
        i += 1
    return out


def _bound_problems(field_: str, op: str, bound: Bound) -> list[tuple[str, str]]:
    if op in BAND_OPS:
        if not (isinstance(bound, tuple) and len(bound) == 2 and bound[0] <= bound[1]):
            return [(field_, f"op {op!r} needs {field_} = [lo, hi] with lo <= hi")]
        return []
    if op not in COMPARE_OPS:
        ops = " ".join((*COMPARE_OPS, *BAND_OPS))
        return [("op", f"unknown op {op!r}; one of {ops}")]
    if isinstance(bound, tuple):
        return [(field_, f"op {op!r} compares with one number, not a list")]
    return []


def unknown_metric(name: str) -> str:
    """The message for an unknown metric name, with a did-you-mean suggestion."""
    return f"unknown metric {name!r}{did_you_mean(name, METRICS)}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest choice, or a list of the choices when none is close."""
    import difflib

    pool = sorted(choices)
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    close = close or [c for c in pool if word and c.startswith(word)][:1]
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {', '.join(pool)}"


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """Alertmanager's inhibition: a firing source mutes matching targets with equal labels.

    A target alert (matching every `target_matchers`) is inhibited while some firing alert
    matches every `source_matchers` and has the same values for the `equal` labels (a missing
    label equals an empty one). An alert matching both sides is not inhibited by an alert that
    also matches both sides (no self-inhibition), as in Alertmanager.
    """

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Validated rules (composites after their parts) and inhibit rules.

    Raises:
        ConfigError: On construction, listing every problem (use `rulefile` for line numbers).
    """

    rules: tuple[Rule, ...] = ()
    inhibit: tuple[InhibitRule, ...] = ()
    by_name: dict[str, Rule] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = set_problems(self.rules)
        if problems:
            lines = (f"{self.rules[i].name}: {m}" for i, _, m in problems)
            raise ConfigError("bad rules:\n" + "\n".join(lines))
        ordered = topological(self.rules)
        object.__setattr__(self, "rules", ordered)
        object.__setattr__(self, "by_name", {r.name: r for r in ordered})

    def __len__(self) -> int:
        return len(self.rules)

    def names(self) -> tuple[str, ...]:
        """Rule names in evaluation order."""
        return tuple(r.name for r in self.rules)

    def merged(self, other: RuleSet) -> RuleSet:
        """The union with `other`; a rule of `other` replaces one of the same name here."""
        theirs = {r.name for r in other.rules}
        mine = tuple(r for r in self.rules if r.name not in theirs)
        return RuleSet((*mine, *other.rules), (*self.inhibit, *other.inhibit))


def set_problems(rules: Sequence[Rule]) -> list[tuple[int, str, str]]:
    """Every problem of a set of rules as `(index of the rule, field, message)`.

    Checks each rule, duplicate names, composites naming unknown rules (or rules split
    differently from the composite), and cycles.
    """
    out: list[tuple[int, str, str]] = []
    first: dict[str, int] = {}
    for i, r in enumerate(rules):
        out.extend((i, f, m) for f, m in (*r.problems(), *r.annotation_problems()))
        if r.name in first:
            out.append((i, "name", f"duplicate rule name {r.name!r}"))
        first.setdefault(r.name, i)
    by_name = {r.name: r for r in rules}
    for i, r in enumerate(rules):
        if r.kind != "composite":
            continue
        for part in r.rules:
            other = by_name.get(part)
            if other is None:
                out.append((i, "rules", f"unknown rule {part!r}{did_you_mean(part, by_name)}"))
            elif part == r.name:
                out.append((i, "rules", "a composite cannot name itself"))
            elif r.by is not None and other.by != r.by:
                out.append(
                    (i, "rules", f"composite split by {r.by!r} combines {part!r}, which is not")
                )
    for cycle in cycles(rules):
        where = first.get(cycle[0], 0)
        out.append((where, "rules", "composite cycle: " + " -> ".join([*cycle, cycle[0]])))
    return out


def cycles(rules: Sequence[Rule]) -> list[list[str]]:
    """Cycles among composites (each reported once, starting at its first rule in file order)."""
    graph = {r.name: [p for p in r.rules if p != r.name] for r in rules if r.kind == "composite"}
    order = {r.name: i for i, r in enumerate(rules)}
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cyc = path[path.index(nxt) :]
                key = frozenset(cyc)
                if key not in seen_sets:
                    seen_sets.add(key)
                    start = min(range(len(cyc)), key=lambda i: order.get(cyc[i], 0))
                    found.append(cyc[start:] + cyc[:start])
            elif state.get(nxt, 0) == 0 and nxt in graph:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for name in graph:
        if state.get(name, 0) == 0:
            visit(name, [])
    return found


def topological(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """Rules with every composite after the rules it names (file order otherwise kept)."""
    by_name = {r.name: r for r in rules}
    done: set[str] = set()
    out: list[Rule] = []

    def place(r: Rule) -> None:
        if r.name in done:
            return
        done.add(r.name)
        for part in r.rules:
            if part in by_name:
                place(by_name[part])
        out.append(r)

    for r in rules:
        place(r)
    return tuple(out)
