"""Check one setting's value against its `Key`, whether it came from TOML, a variable or a flag.

A TOML file gives typed values; an environment variable gives text, which `from_text` turns
into the key's type first (`true`/`1`/`yes`, numbers, comma-separated lists), so every source
ends in the same `check`, and an error names the allowed values the same way for all of them.
A secret-looking key's value is never repeated in a message.
"""

from __future__ import annotations

import ipaddress
import math
import re

from poolmon.core.config.schema import Key, is_secret

_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]*):(\d{1,5})$")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class BadValue(ValueError):
    """A value does not fit its key; the message says what is allowed."""


def allowed(key: Key) -> str:
    """The allowed values of `key`, in words."""
    if key.kind == "choice":
        return "one of " + ", ".join(repr(c) for c in key.choices)
    if key.kind in ("int", "float", "seconds"):
        what = {"int": "an integer", "float": "a number", "seconds": "a number of seconds"}
        lo = key.lo if key.lo is not None else (0 if key.kind == "seconds" else None)
        if lo is not None and key.hi is not None:
            return f"{what[key.kind]} from {_num(lo)} to {_num(key.hi)}"
        if key.kind == "seconds" and key.lo is None:
            return "a positive number of seconds"
        return what[key.kind] + (f" of at least {_num(lo)}" if lo is not None else "")
    return {
        "bool": "true or false",
        "str": "a non-empty string",
        "path": "a non-empty path (relative to the file's folder)",
        "strs": "a list of non-empty strings",
        "uids": "a list of user ids (integers >= 0)",
        "address": "'host:port' (port 1-65535)",
    }[key.kind]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def shown(key_name: str, value: object) -> str:
    """`value` for a message: its repr, or `<hidden>` for a secret."""
    return "<hidden>" if is_secret(key_name) else repr(value)


def check(key: Key, value: object) -> object:
    """`value` if it fits `key` (numbers normalised, lists made tuples), else `BadValue`."""
    bad = BadValue(f"{key.dotted} must be {allowed(key)}, got {shown(key.name, value)}")
    kind = key.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind in ("int", "float", "seconds"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        if kind == "int" and not isinstance(value, int):
            raise bad
        if not math.isfinite(value):
            raise bad
        if kind == "seconds" and key.lo is None and value <= 0:
            raise bad
        if (key.lo is not None and value < key.lo) or (key.hi is not None and value > key.hi):
            raise bad
        return value if kind == "int" else float(value)
    if kind == "choice":
        if value not in key.choices:
            raise bad
        return value
    if kind in ("str", "path"):
        if not isinstance(value, str) or not value.strip():
            raise bad
        return value
    if kind == "address":
        if not isinstance(value, str):
            raise bad
        m = _ADDRESS.match(value)
        if m is None or not 1 <= int(m.group(2)) <= 65535:
            raise bad
        return value
    if not isinstance(value, list | tuple):
        raise bad
    if kind == "strs":
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise bad
        return tuple(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise bad
    return tuple(value)


def loopback_host(host: str) -> bool:
    """Whether only this machine can connect to `host` (`localhost`, 127.0.0.0/8, `[::1]`)."""
    host = host.removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unattended_problem(key: Key, value: object) -> str | None:
    """Why a file or a variable may not set `value`, though the command line may (else None).

    `/metrics` has no authentication, so a `watch.listen` other machines can reach must be
    typed by the operator (`--metrics-listen`, `--set watch.listen=`): a file or a variable
    someone else may have written, or that outlived its reason, cannot open it.
    """
    if key.dotted != "watch.listen" or not isinstance(value, str):
        return None
    if loopback_host(value.rpartition(":")[0]):
        return None
    return (
        f"watch.listen {value!r} is not a loopback address: /metrics has no authentication, "
        "so only the command line may serve it to other machines (--metrics-listen or "
        "--set watch.listen=...)"
    )


def from_text(key: Key, text: str) -> object:
    """An environment variable's text as `key`'s type, checked (`BadValue` if it does not fit)."""
    raw = text.strip()
    value: object = raw
    kind = key.kind
    if kind == "bool":
        low = raw.lower()
        value = True if low in _TRUE else False if low in _FALSE else raw
    elif kind == "int":
        try:
            value = int(raw)
        except ValueError:
            pass
    elif kind in ("float", "seconds"):
        try:
            value = float(raw)
        except ValueError:
            pass
    elif kind in ("strs", "uids"):
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if kind == "uids":
            try:
                value = [int(p) for p in parts]
            except ValueError:
                value = raw
        else:
            value = parts
    return check(key, value)


def to_text(key: Key, value: object) -> str:
    """How `config show` prints a value (TOML-like; secrets hidden)."""
    if is_secret(key.name):
        return "<hidden>"
    if value is None:
        return f"({key.default_text})" if key.default_text else "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return _num(value) if isinstance(value, float) else str(value)
