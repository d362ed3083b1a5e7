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

from poolmon.cli_format import DefaultsHelpFormatter, parse
from poolmon.core.errors import PoolmonError

#: verb -> (module, function, help). The function takes the parsed namespace, returns an exit code.
VERBS: dict[str, tuple[str, str, str]] = {
    "demo": ("poolmon.app.launch", "run_demo", "start a demo pool under a mixed load and attach"),
    "attach": ("poolmon.app.launch", "run_attach", "attach the terminal monitor to a running pool"),
    "ls": ("poolmon.runtime.commands", "run_ls", "list the pools running on this machine"),
    "status": ("poolmon.runtime.commands", "run_status", "print a one-shot summary of a pool"),
    "watch": (
        "poolmon.runtime.watch.serve",
        "run_watch",
        "watch pools headless and serve their metrics to Prometheus (/metrics)",
    ),
    "alerts": (
        "poolmon.runtime.alerting.cli",
        "run_alerts",
        "list a pool's alerts; `alerts check FILE` validates a rule file",
    ),
    "ack": ("poolmon.runtime.alerting.cli", "run_ack", "acknowledge a firing alert"),
    "silence": ("poolmon.runtime.alerting.cli", "run_silence", "mute alerts matching labels"),
    "silences": ("poolmon.runtime.alerting.cli", "run_silences", "list a pool's silences"),
    "unsilence": ("poolmon.runtime.alerting.cli", "run_unsilence", "remove a silence"),
    "tune": ("poolmon.runtime.tune", "run_tune", "show or change a pool's run-time settings"),
    "advise": ("poolmon.runtime.advise_cli", "run_advise", "what to change in a pool, and why"),
    "stack": (
        "poolmon.runtime.stack_cli",
        "run_stack",
        "print the live stack of a worker's running task (--all: every worker)",
    ),
    "record": (
        "poolmon.runtime.recording.cli",
        "run_record",
        "record everything a monitor receives from a pool into a file, for replay",
    ),
    "replay": ("poolmon.app.replay_launch", "run_replay", "open the terminal app on a recording"),
    "config": (
        "poolmon.runtime.config.show",
        "run_config",
        "`config show` prints the effective poolmon.toml settings; `config check FILE`",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for every verb."""
    parser = argparse.ArgumentParser(
        prog="poolmon",
        description="A supervised Python worker pool and its live terminal monitor.",
    )
    from poolmon import __version__

    parser.add_argument("--version", action="version", version=f"poolmon {__version__}")
    parser.add_argument("--config", metavar="FILE", help=_CONFIG_HELP)
    parser.add_argument("--set", metavar="SECTION.KEY=VALUE", action="append", help=_SET_HELP)
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, (_, _, help_text) in VERBS.items():
        p = sub.add_parser(
            verb, help=help_text, description=help_text, formatter_class=DefaultsHelpFormatter
        )
        # accepted after the verb too; SUPPRESS keeps a global --config from being reset
        p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=_CONFIG_HELP)
        p.add_argument(  # its own dest: a sub-parser's list would replace the global one
            "--set",
            dest="set_after_verb",
            metavar="SECTION.KEY=VALUE",
            action="append",
            default=[],
            help=_SET_HELP,
        )
        _add_verb_arguments(verb, p)
    return parser


_CONFIG_HELP = "read this poolmon.toml (default: $POOLMON_CONFIG, ./poolmon.toml, ~/.config)"
_SET_HELP = "override one poolmon.toml setting for this command (repeatable; wins over env)"
_TARGET_HELP = "pool name, socket path or ssh://[user@]host[:port]/NAME"


def _add_verb_arguments(verb: str, p: argparse.ArgumentParser) -> None:
    if verb in {"attach", "demo"}:
        if verb == "attach":
            p.add_argument(
                "socket",
                nargs="*",
                metavar="NAME|SOCKET",
                help=f"NAME or SOCKET: {_TARGET_HELP}; several: a pools overview "
                "(default: the only pool, or pick one)",
            )
            p.add_argument(
                "--all", action="store_true", help="every pool here, as they come and go"
            )
            p.add_argument(
                "--read-only",
                action=argparse.BooleanOptionalAction,
                default=None,
                help="disable tuning commands (default: [endpoint] read_only)",
            )
            p.add_argument("--replay", metavar="FILE", help="open a recording instead of a pool")
        else:
            p.add_argument("--workers", type=int, default=4, help="pool size (default 4)")
            p.add_argument(
                "--headless-seconds",
                type=float,
                metavar="S",
                default=None,
                help="run the demo pool without the app for N seconds, printing stats",
            )
        p.add_argument(
            "--refresh",
            type=float,
            default=None,
            metavar="HZ",
            help="screen refreshes per second, 0.2-30 (default: [app] refresh, else 4)",
        )
        p.add_argument(
            "--window",
            choices=["1m", "5m", "15m", "1h"],
            default=None,
            help="initial time window (default: [app] window, else 1m)",
        )
    elif verb == "ls":
        p.add_argument("host", nargs="?", metavar="ssh://HOST", help="list the pools on HOST")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument(
            "--prune", action="store_true", help="remove stale sockets (nothing listens on them)"
        )
    elif verb == "tune":
        p.add_argument("name", metavar="NAME|SOCKET", help="pool name or socket path")
        p.add_argument(
            "assignments",
            nargs="*",
            metavar="KEY=VALUE",
            help="settings to change, all or nothing (e.g. size=8 task_timeout_s=none)",
        )
        p.add_argument("--show", action="store_true", help="list the settings (the default)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
    elif verb == "stack":
        p.add_argument("name", metavar="NAME|SOCKET", help="pool name or socket path")
        p.add_argument("worker_id", nargs="?", type=int, help="the worker (see `poolmon status`)")
        p.add_argument("--all", action="store_true", help="every worker's stack")
        p.add_argument(
            "--method",
            choices=["auto", "pyspy", "inprocess"],
            default="auto",
            help="who reads the stack: py-spy, the in-worker dumper, or auto (py-spy if allowed)",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
    elif verb in {"status", "advise"}:
        p.add_argument(
            "socket",
            nargs="?",
            metavar="NAME|SOCKET",
            help=f"{_TARGET_HELP} (default: the only pool)",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
    elif verb == "config":
        p.add_argument("action", nargs="?", choices=["show", "check"], default="show")
        p.add_argument("file", nargs="?", metavar="FILE", help="with `check`: the file to check")
        p.add_argument("--json", action="store_true", help="machine-readable output (show)")
    elif verb == "watch":
        _add_watch_arguments(p)
    elif verb in {"record", "replay"}:
        from poolmon.runtime.recording import cli as recording_cli

        getattr(recording_cli, f"add_{verb}_arguments")(p)
    elif verb in ALERT_VERBS:
        _add_alert_arguments(verb, p)


def _add_watch_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `poolmon watch` (implemented in poolmon.runtime.watch.serve)."""
    p.add_argument(
        "targets",
        nargs="*",
        metavar="NAME|SOCKET",
        help="pools to watch (default: [watch] pools, else the only pool running)",
    )
    p.add_argument(
        "--all", action="store_true", help="every pool on this machine, as they come and go"
    )
    p.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        default=None,
        help="where to serve /metrics (default: [watch] listen, else 127.0.0.1:9464; "
        "non-loopback only from the command line)",
    )
    p.add_argument("--once", action="store_true", help="print the figures once and exit")
    p.add_argument("--json", action="store_true", help="with --once: JSON output")
    p.add_argument(
        "--timeout", type=float, default=5.0, help="with --once: seconds to wait for the pools"
    )
    p.add_argument("--max-ops", type=int, default=32, help="op label values per pool (default 32)")
    p.add_argument(
        "--max-workers", type=int, default=128, help="worker label values per pool (default 128)"
    )


ALERT_VERBS = frozenset({"alerts", "ack", "silence", "silences", "unsilence"})
_POOL_HELP = "pool name or socket path"


def _add_alert_arguments(verb: str, p: argparse.ArgumentParser) -> None:
    """Arguments of the alert verbs (implemented in poolmon.runtime.alerting.cli)."""
    if verb == "alerts":
        p.add_argument(
            "target",
            nargs="?",
            metavar="NAME",
            help=f"{_POOL_HELP} (default: the only pool); or `check` followed by a rule FILE",
        )
        p.add_argument("file", nargs="?", metavar="FILE", help="with `check`: the rule file")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--history", action="store_true", help="also list ended alerts")
        return
    p.add_argument(
        "name", nargs="?" if verb == "silences" else None, metavar="NAME", help=_POOL_HELP
    )
    if verb == "ack":
        p.add_argument("alert_id", metavar="ALERT_ID", help="the alert's id (see poolmon alerts)")
        p.add_argument("--comment", default="", help="why, or who is on it")
    elif verb == "silence":
        p.add_argument(
            "matchers",
            nargs="+",
            metavar="MATCHER",
            help="label=value, label!=value, label=~regex or label!~regex (all must match)",
        )
        p.add_argument("--for", dest="duration", metavar="DURATION", help="15m, 1h, 1d, 1h30m")
        p.add_argument("--until", metavar="ISO-TIME", help="end at this local time instead")
        p.add_argument("--comment", default="", help="why")
    elif verb == "silences":
        p.add_argument("--json", action="store_true", help="machine-readable output")
    elif verb == "unsilence":
        p.add_argument("silence_id", metavar="SILENCE_ID", help="see poolmon silences")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `poolmon` command line and return its exit code."""
    parser = build_parser()
    args = parse(parser, None if argv is None else list(argv))  # a verb's own usage on errors
    if not args.verb:
        parser.print_help()
        return 2
    module_name, func_name, _ = VERBS[args.verb]
    func: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module_name), func_name
    )
    from poolmon.runtime import config

    try:
        config.use_file(getattr(args, "config", None))  # for this command only (see finally)
        config.use_arguments([*(args.set or []), *getattr(args, "set_after_verb", [])])
        return func(args)
    except PoolmonError as exc:
        print(f"poolmon {args.verb}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        config.use_file(None)
        config.use_arguments(None)
