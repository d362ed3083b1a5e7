"""`Pool()` takes its defaults from poolmon.toml's [pool] and [alerts]; an argument always wins.

`with_config_defaults` wraps `Pool.__init__`: the arguments the caller did not pass are looked up
in the effective configuration (file, then `POOLMON_POOL_*` variables), and only settings that
are actually set there are filled in, so a pool with no configuration is built exactly as
before. Arguments with another name for the same thing (ProcessPoolExecutor's
`max_tasks_per_child`, `mp_context`) count as given.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from poolmon.core.config.layers import Effective

P = ParamSpec("P")
S = TypeVar("S")

ALIASES: dict[str, tuple[str, ...]] = {
    "max_tasks_per_worker": ("max_tasks_per_child",),
    "start_method": ("mp_context",),
}
"""A Pool argument -> other arguments that set it too."""


def pool_arguments(eff: Effective) -> dict[str, Any]:
    """The Pool() keyword arguments the configuration sets (nothing left at its default)."""
    out = dict(eff.section("pool", set_only=True))
    alerts = eff.section("alerts", set_only=True)
    if alerts.get("enabled") is False:
        out["alerts"] = False
    elif "rules" in alerts:
        out["alerts"] = alerts["rules"]
    if "state_dir" in alerts:
        out["alert_state_dir"] = alerts["state_dir"]
    return out


Init = Callable[Concatenate[S, P], None]


def with_config_defaults(init: Init[S, P]) -> Init[S, P]:
    """Wrap `Pool.__init__` so poolmon.toml supplies the arguments not given (module doc)."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> None:
        from poolmon.runtime import config

        wanted = pool_arguments(config.current())
        if wanted:
            given = signature.bind_partial(self, *args, **kwargs).arguments
            for name, value in wanted.items():
                if name in signature.parameters and not (
                    name in given or any(a in given for a in ALIASES.get(name, ()))
                ):
                    kwargs[name] = value
        init(self, *args, **kwargs)

    return wrapper
