"""Every setting `poolmon.toml` may hold: its section, type, allowed values, default and meaning.

One table drives everything: parsing a file, reading `POOLMON_<SECTION>_<KEY>` variables,
checking command-line arguments, `poolmon config show` and the reference in
docs/FLEET.md. A setting that is read only when something starts (a pool, the app) says
so (`restart`), and one the tuning commands can change in a running pool names its tuning key
(`live`), so `config show` can tell an operator what editing it will and will not do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

KINDS: Final = (
    "int", "seconds", "float", "bool", "choice", "str", "path", "strs", "uids", "address",
)  # fmt: skip
"""Value kinds: TOML integer, positive seconds, number, boolean, one of `choices`, string,
file path, list of strings, list of user ids, `host:port`."""

THEMES: Final = (
    "textual-dark", "textual-light", "nord", "gruvbox", "catppuccin-mocha", "dracula",
    "tokyo-night", "monokai", "flexoki", "catppuccin-latte", "catppuccin-frappe",
    "catppuccin-macchiato", "solarized-light", "solarized-dark", "rose-pine", "rose-pine-moon",
    "rose-pine-dawn", "atom-one-dark", "atom-one-light", "ansi-dark", "ansi-light",
)  # fmt: skip
"""Textual's built-in themes (tests/config checks this against the installed Textual)."""

WINDOWS: Final = ("1m", "5m", "15m", "1h")
"""The app's time windows."""

SECRET_WORDS: Final = ("password", "passwd", "token", "secret", "apikey", "api_key", "credential")
"""A key whose name holds one of these is a secret: its value is never printed."""


@dataclass(frozen=True, slots=True)
class Key:
    """One setting.

    Attributes:
        section: Its table (`[pool]`).
        name: Its key inside the table.
        kind: One of `KINDS`.
        default: The value when nothing sets it; None means "decided at run time" (`default_text`).
        help: What it does, one line.
        lo / hi: Bounds for numbers (inclusive), None for none.
        choices: Allowed values of a `choice`.
        default_text: How `config show` describes a None default.
        live: The tuning setting (`poolmon tune`) that changes it in a running pool, if any.
        restart: Read only when a pool or the app starts: editing it affects the next start.
    """

    section: str
    name: str
    kind: str
    default: object
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    default_text: str = ""
    live: str | None = None
    restart: bool = True

    @property
    def env(self) -> str:
        """The environment variable that overrides it."""
        return f"POOLMON_{self.section.upper()}_{self.name.upper()}"

    @property
    def dotted(self) -> str:
        """`section.name`."""
        return f"{self.section}.{self.name}"


_CPUS = "the CPUs this process may use"
KEYS: Final[tuple[Key, ...]] = (
    # [pool]: defaults for Pool(); an argument given to Pool() always wins
    Key("pool", "max_workers", "int", None, "workers a pool starts with", lo=1, hi=4096,
       default_text=_CPUS, live="size"),
    Key("pool", "min_size", "int", 1, "smallest size resize may go to", lo=0, hi=4096,
       live="min_size"),
    Key("pool", "max_size", "int", None, "largest size resize may go to", lo=1, hi=4096,
       default_text="max(max_workers, 4 x CPUs)", live="max_size"),
    Key("pool", "start_method", "choice", "forkserver", "how workers are started",
       choices=("forkserver", "spawn", "fork")),
    Key("pool", "max_queue", "int", None, "tasks that may wait for a worker", lo=1,
       default_text="unbounded", live="queue_bound"),
    Key("pool", "on_queue_full", "choice", "raise", "what submit does when the queue is full",
       choices=("raise", "block"), live="on_queue_full"),
    Key("pool", "queue_timeout", "seconds", None, "longest a blocked submit waits",
       default_text="forever"),
    Key("pool", "task_timeout", "seconds", None, "default seconds a task may run",
       default_text="no limit", live="task_timeout_s"),
    Key("pool", "health_check_interval", "seconds", 0.5, "seconds between heartbeat checks",
       live="health_check_interval_s"),
    Key("pool", "health_check_timeout", "seconds", 2.0, "a heartbeat older than this is a miss"),
    Key("pool", "health_check_max_misses", "int", 3, "misses in a row before a worker is replaced",
       lo=1, hi=1000),
    Key("pool", "max_tasks_per_worker", "int", None, "recycle a worker after this many tasks",
       lo=1, default_text="never", live="recycle_after_tasks"),
    Key("pool", "max_memory_per_worker", "int", None,
       "recycle a worker whose RSS exceeds this many bytes", lo=1 << 20, default_text="never",
       live="recycle_above_rss_mib"),
    Key("pool", "memory_check_interval", "seconds", 1.0, "seconds between RSS samples"),
    Key("pool", "session_affinity", "choice", "hint", "default affinity of session-tagged work",
       choices=("hint", "strict")),
    Key("pool", "session_ttl", "seconds", 300.0, "seconds an unused session binding lives"),
    Key("pool", "start_timeout", "seconds", 30.0, "seconds a worker may take to start"),
    Key("pool", "resource_interval", "seconds", 1.0, "seconds between resource samples"),
    Key("pool", "monitor", "bool", True, "serve the monitor endpoint (false: no endpoint)"),
    Key("pool", "stack_args", "bool", True,
       "poolmon stack and the app's x show the running task's arguments (false: hidden)"),
    # [endpoint]: the monitor socket
    Key("endpoint", "socket_dir", "path", None, "folder of the pools' sockets",
       default_text="$XDG_RUNTIME_DIR/poolmon, else <tmp>/poolmon-<uid>"),
    Key("endpoint", "allow_uids", "uids", (), "user ids allowed to connect besides the pool's own"),
    Key("endpoint", "read_only", "bool", False,
       "poolmon attach connects read-only unless --no-read-only", restart=False),
    # [app]: poolmon attach / demo
    Key("app", "theme", "choice", "textual-dark", "colour theme", choices=THEMES),
    Key("app", "refresh", "float", 4.0, "screen refreshes per second", lo=0.2, hi=30.0),
    Key("app", "window", "choice", "1m", "initial time window", choices=WINDOWS),
    # [alerts]: which rules a pool evaluates (the rule format is docs/ALERTS.md's)
    Key("alerts", "enabled", "bool", True, "evaluate alert rules in the pool"),
    Key("alerts", "rules", "path", None, "rule file (its rules and notification channels)",
       default_text="the built-in rule pack"),
    Key("alerts", "state_dir", "path", None, "folder of the alert state file",
       default_text="$XDG_STATE_HOME/poolmon/<pool>"),
    # [watch]: poolmon watch
    Key("watch", "listen", "address", "127.0.0.1:9464", "address /metrics is served on"),
    Key("watch", "pools", "strs", (), "pools to watch: names or socket paths on this machine"),
    # [ssh]: ssh:// targets
    Key("ssh", "command", "str", "ssh", "the ssh client to run", restart=False),
    Key("ssh", "config_file", "path", None, "ssh client configuration file (ssh -F)",
       default_text="ssh's own: ~/.ssh/config", restart=False),
    Key("ssh", "options", "strs", (), "extra ssh options, each 'Key=Value' (ssh -o)",
       restart=False),
    Key("ssh", "connect_timeout", "seconds", 10.0, "seconds ssh may take to connect",
       restart=False),
)  # fmt: skip
"""Every setting, in the order `config show` prints them."""

SECTIONS: Final = tuple(dict.fromkeys(k.section for k in KEYS))
"""The tables a file may have."""

BY_NAME: Final = {(k.section, k.name): k for k in KEYS}
"""`(section, key)` -> Key."""


def section_keys(section: str) -> tuple[str, ...]:
    """The keys of one section, for did-you-mean suggestions."""
    return tuple(k.name for k in KEYS if k.section == section)


def is_secret(name: str) -> bool:
    """True when a key's name says it holds a secret (its value must never be printed)."""
    low = name.lower()
    return any(word in low for word in SECRET_WORDS)
