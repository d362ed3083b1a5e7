"""`poolmon attach A B ...` and `poolmon attach --all`: the app on several pools at once.

Every named target is resolved before the full-screen app starts, like a single attach, so a
typo is one clear line on stderr: a name, a socket path or an ssh:// URL (whose forward lives
as long as the app). Each must answer the handshake, except with `--all`, where the socket
folder is the list: pools come and go while the app runs, and the app starts even when none
runs yet (it says so and waits for one).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from poolmon.core.errors import ConfigError


def wants_fleet(args: argparse.Namespace) -> bool:
    """Whether this attach is for several pools (more than one target, or `--all`)."""
    targets = getattr(args, "socket", None) or []
    return bool(getattr(args, "all", False)) or (isinstance(targets, list) and len(targets) > 1)


def run_fleet(args: argparse.Namespace) -> int:
    """Resolve every target, check each answers, and run the app on the fleet."""
    from poolmon.app.app import PoolmonApp
    from poolmon.app.launch import WINDOW_NAMES, app_settings, check_reachable
    from poolmon.runtime.fleet import Fleet, FleetSource, FleetTarget, local_target
    from poolmon.runtime.monitor import Monitor
    from poolmon.runtime.ssh.url import is_ssh, parse_ssh_url
    from poolmon.runtime.targets import open_target

    eff = app_settings(args)
    read_only = bool(eff.get("endpoint", "read_only"))
    specs: list[str] = list(getattr(args, "socket", None) or [])
    if len(set(specs)) != len(specs):
        raise ConfigError(f"a pool is named twice: {' '.join(specs)}")
    with ExitStack() as stack:
        targets: list[FleetTarget] = []
        for spec in specs:
            target = stack.enter_context(open_target(spec, batch=not sys.stdin.isatty()))
            check_reachable(target.path, read_only)
            if is_ssh(spec):
                name = parse_ssh_url(spec).name or spec
                targets.append(FleetTarget(target.path, name, spec))
            else:
                targets.append(local_target(Path(target.path)))

        def monitor(path: Path) -> Monitor:
            return Monitor(path, read_only=read_only)

        fleet = Fleet(targets, monitor, discover=bool(getattr(args, "all", False)))
        app = PoolmonApp(
            FleetSource(fleet),
            window_s=WINDOW_NAMES[eff.get("app", "window")],
            refresh_hz=float(eff.get("app", "refresh")),
            read_only=read_only,
        )
        app.theme = str(eff.get("app", "theme"))
        app.run()
    return 0
