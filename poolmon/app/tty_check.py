"""Refuse to start the full-screen app when it has no terminal to draw on or read keys from.

Textual draws on standard error and reads keys from standard input. With stderr redirected
(`poolmon attach 2>log`) the whole screen goes into the file and the terminal stays blank,
with no hint, until the user gives up; with stdin redirected no key (not even `q`) arrives;
with stdout redirected or piped (`poolmon attach | less`, `> out`) the app still draws, but
whatever reads the other end fights it for the terminal and gets nothing useful.

So `poolmon attach` and `poolmon demo` check all three before the app starts and, if one is
not a terminal, exit with one line saying which stream goes where and what to use instead,
rather than drawing on /dev/tty behind the user's redirection (as fzf does, whose stdout
carries a result; the app has none): a redirection almost always means the user or a script
wanted text, and the text commands exist (`poolmon status`, `poolmon watch --once --json`).
docs/CLI.md compares what other tools do.
"""

from __future__ import annotations

import os
from typing import Final

from poolmon.core.errors import ConfigError

WHY: Final = (
    "so no key (not even q) would reach the app",
    "so whatever reads it would get nothing and fight the app for the terminal",
)
"""Why a redirected stdin / stdout stops the app."""


def where(fd: int) -> str:
    """What file descriptor `fd` points at, in words: `a pipe`, `/dev/null`, `the file x`."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "something that is not a terminal"
    if target.startswith("pipe:"):
        return "a pipe"
    if target.startswith("socket:"):
        return "a socket"
    if target == "/dev/null":
        return "/dev/null"
    return f"the file {target}"


def terminal_problem(fds: tuple[int, int, int] = (0, 1, 2)) -> str | None:
    """Why the app cannot run here (the first stream that is not a terminal), or None.

    `fds` are the descriptors used for stdin, stdout and stderr (tests pass their own).
    """
    stdin, stdout, stderr = fds
    if not os.isatty(stderr):
        return (
            f"standard error goes to {where(stderr)}, and the screen is drawn there, so the "
            "terminal would stay blank"
        )
    for fd, name, why in zip((stdin, stdout), ("input", "output"), WHY, strict=True):
        if not os.isatty(fd):
            return f"standard {name} is {where(fd)}, not a terminal, {why}"
    return None


def require_terminal(verb: str, fds: tuple[int, int, int] = (0, 1, 2)) -> None:
    """Raise a `ConfigError` (exit 2, one line) if `poolmon VERB`'s app has no terminal.

    Raises:
        ConfigError: stdin, stdout or stderr is redirected; the message says which and what
            to run for text output instead.
    """
    problem = terminal_problem(fds)
    if problem is None:
        return
    message = (
        f"the full-screen monitor needs a terminal: {problem}; run `poolmon {verb}` "
        "without redirecting it, or for text use `poolmon status NAME [--json]` or "
        "`poolmon watch --once --json`"
    )
    if not os.isatty(fds[2]):
        tell_terminal(f"poolmon {verb}: {message}")
    raise ConfigError(message)


def tell_terminal(line: str) -> None:
    """Also write `line` on the controlling terminal, if there is one.

    With stderr redirected, the error line goes into that file like any error; the person at
    the terminal, who only sees the command return, gets it here too.
    """
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(line + "\n")
    except OSError:
        pass  # no controlling terminal (cron, a service): the redirected stderr has it
