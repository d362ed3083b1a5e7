"""The `poolmon` command line: one sub-command per verb, each implemented where it belongs.

This module only parses arguments. Each verb's implementation is imported when it runs, so
`poolmon ls` never pays for importing Textual, and a missing optional piece fails only the verb
that needs it. Errors a user can cause print one clear line on stderr and exit 2; they never
show a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from poolmon.core.errors import PoolmonError

#: verb -> (module, function, help). The function takes the parsed namespace, returns an exit code.
VERBS: dict[str, tuple[str, str, str]] = {
    "demo": ("poolmon.app.launch", "run_demo", "start a demo pool under a mixed load and attach"),
    "attach": ("poolmon.app.launch", "run_attach", "attach the terminal monitor to a running pool"),
    "ls": ("poolmon.runtime.commands", "run_ls", "list the pools running on this machine"),
    "status": ("poolmon.runtime.commands", "run_status", "print a one-shot summary of a pool"),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every verb."""
    parser = argparse.ArgumentParser(
        prog="poolmon",
        description="A supervised Python worker pool and its live terminal monitor.",
    )
    from poolmon import __version__

    parser.add_argument("--version", action="version", version=f"poolmon {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, (_, _, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        _add_verb_arguments(verb, p)
    return parser


def _add_verb_arguments(verb: str, p: argparse.ArgumentParser) -> None:
    if verb in {"attach", "demo"}:
        if verb == "attach":
            p.add_argument(
                "socket", nargs="?", help="socket path (default: the only pool, or pick)"
            )
            p.add_argument("--read-only", action="store_true", help="disable tuning commands")
        else:
            p.add_argument("--workers", type=int, default=4, help="pool size (default 4)")
            p.add_argument(
                "--headless-seconds",
                type=float,
                default=None,
                help="run the demo pool without the app for N seconds, printing stats",
            )
        p.add_argument("--refresh", type=float, default=4.0, help="screen refreshes per second")
        p.add_argument(
            "--window", choices=["1m", "5m", "15m", "1h"], default="1m", help="initial time window"
        )
    elif verb == "ls":
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument(
            "--prune", action="store_true", help="remove stale sockets (nothing listens on them)"
        )
    elif verb == "status":
        p.add_argument("socket", nargs="?", help="socket path (default: the only pool)")
        p.add_argument("--json", action="store_true", help="machine-readable output")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `poolmon` command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help()
        return 2
    module_name, func_name, _ = VERBS[args.verb]
    func: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module_name), func_name
    )
    try:
        return func(args)
    except PoolmonError as exc:
        print(f"poolmon {args.verb}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
