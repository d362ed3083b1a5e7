"""`python -m poolmon.bench SUITE [--json]`: run one benchmark suite and print its results."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

SUITES = (
    "pool",
    "rtt",
    "telemetry",
    "endpoint",
    "aggregator",
    "resources",
    "app",
    "memory",
    "alerts",
    "watch",
    "investigate",
    "autotune",
    "soak",
)


def main(argv: list[str] | None = None) -> int:
    """Parse the suite name, run it, and print JSON (with --json) or a readable table."""
    parser = argparse.ArgumentParser(prog="python -m poolmon.bench")
    parser.add_argument("suite", choices=SUITES)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    known, rest = parser.parse_known_args(argv)
    module = importlib.import_module(f"poolmon.bench.{known.suite}")
    sub = argparse.ArgumentParser(prog=f"python -m poolmon.bench {known.suite}")
    if hasattr(module, "add_arguments"):
        module.add_arguments(sub)
    extra = sub.parse_args(rest)
    for key, value in vars(known).items():
        setattr(extra, key, value)
    result: dict[str, Any] = module.run(extra)
    if known.json:
        print(json.dumps(result, indent=2, sort_keys=False))
    else:
        from poolmon.bench.common import print_table

        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
