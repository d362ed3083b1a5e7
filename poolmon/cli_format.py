"""How `poolmon VERB --help` reads, and which usage a bad option is answered with.

argparse's own `ArgumentDefaultsHelpFormatter` appends "(default: None)" to every option
whose default is resolved later from poolmon.toml, which would be untrue; this formatter
shows a default only when the parser really has one and the help does not state it already.
And a bad option after a verb (`poolmon attach --bogus`) is reported by argparse through the
top-level parser, printing the usage of `poolmon` instead of the verb's: `verb_parser` finds
the verb's own parser so the error shows the usage the user needs.
"""

from __future__ import annotations

import argparse
from typing import Any


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends `(default: X)` to an argument's help when X is a real, unstated default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default: Any = action.default
        if (
            "default" in text
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
            or default == []
            or isinstance(action, argparse._HelpAction | argparse._VersionAction)
        ):
            return action.help
        if not action.option_strings and action.nargs not in ("?", "*"):
            return action.help  # a required positional has no default
        return f"{text} (default: %(default)s)"


def verb_parser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser | None:
    """The sub-parser of `verb` in `parser` (None if there is no such verb)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(verb)
            return found if isinstance(found, argparse.ArgumentParser) else None
    return None


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """`parser.parse_args(argv)`, but leftovers after a verb are that verb's usage error.

    Exits with status 2 and the verb's usage (argparse's `error`), like any usage error.
    """
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = verb_parser(parser, args.verb) if getattr(args, "verb", None) else None
        (sub or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    return args
