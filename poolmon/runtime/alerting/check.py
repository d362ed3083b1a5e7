"""`poolmon alerts check FILE`: validate a rule file the way `Pool(alerts=FILE)` would load it.

Why a verb of its own: a typo in a rule file should be found in CI or before a deploy, not by
a pool refusing to start. It loads the file with the same code as the pool (rules, inhibit
rules, `[notify]` and `[[channels]]`) and prints every problem as `file:line: message` on
stderr, like a compiler, so editors and CI logs can jump to the line; exit status 2 then.
"""

from __future__ import annotations

import sys
from collections import Counter


def check_rule_file(path: str) -> int:
    """Print `ok: N rules (...)` and return 0, or one line per problem and return 2."""
    from poolmon.core.alerts.notify_config import notify_config_of
    from poolmon.core.alerts.rulefile import RuleFileError, format_problem
    from poolmon.runtime.alerting.rules_io import load_rule_file

    try:
        rule_file = load_rule_file(path)
        notify = notify_config_of(rule_file)  # its errors are RuleFileErrors too
    except RuleFileError as exc:
        for problem in exc.problems:
            print(format_problem(problem), file=sys.stderr)
        return 2
    rules = rule_file.rules.rules
    kinds = Counter(rule.kind for rule in rules)
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    n = len(notify.channels)
    where = f"{n} channel{_s(n)}" if n else "no channels: alerts go to the log"
    print(f"ok: {len(rules)} rule{_s(len(rules))} ({detail or 'none'}); {where}")
    return 0


def _s(n: int) -> str:
    return "" if n == 1 else "s"
