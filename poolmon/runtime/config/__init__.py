"""Find and read `poolmon.toml` and the `POOLMON_*` variables: the effective configuration.

Which file: `--config FILE`, else `$POOLMON_CONFIG`, else `./poolmon.toml`, else
`$XDG_CONFIG_HOME/poolmon/poolmon.toml` (`~/.config/...` without XDG_CONFIG_HOME); only the first
found is read (files are not stacked, so one file is the whole answer to "what did I set?"). A
file named explicitly must exist; a discovered one simply may not. Paths written in the file are
relative to the file's folder. Environment variables override the file; arguments override both
(`Effective.with_arguments`). Everything pure is `poolmon.core.config`'s; this module only reads.

`load()` is cached on the file's identity (path, mtime, size) and the `POOLMON_*` variables, so
`Pool()` and `socket_dir()` can ask for it as often as they like.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from poolmon.core.alerts.rules import did_you_mean
from poolmon.core.config.layers import (
    ENV_PREFIX,
    FILE_VARIABLE,
    ConfigFileError,
    Effective,
    Layer,
    Setting,
    merge,
    parse_env,
    parse_file,
)
from poolmon.core.config.schema import BY_NAME, KEYS
from poolmon.core.config.values import BadValue, from_text
from poolmon.core.errors import ConfigError

FILE_NAME = "poolmon.toml"

_lock = threading.Lock()
_cache: dict[tuple[object, ...], Effective] = {}


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/poolmon/poolmon.toml`, or `~/.config/poolmon/poolmon.toml`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "poolmon" / FILE_NAME


def find_file(
    explicit: str | os.PathLike[str] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Path | None, str]:
    """The configuration file to read and how it was found ("" and None when there is none).

    Raises:
        ConfigError: A file named by `--config` or POOLMON_CONFIG does not exist.
    """
    env = os.environ if environ is None else environ
    named = (
        (Path(explicit), "--config")
        if explicit
        else (Path(env[FILE_VARIABLE]), FILE_VARIABLE)
        if env.get(FILE_VARIABLE)
        else None
    )
    if named is not None:
        path, how = named
        if not path.is_file():
            raise ConfigError(f"{how} names {path}, which is not a file")
        return path, how
    here = (cwd or Path.cwd()) / FILE_NAME
    if here.is_file():
        return here, "current folder"
    user = user_config_path(env)
    if user.is_file():
        return user, "user configuration folder"
    return None, ""


def load(
    explicit: str | os.PathLike[str] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Effective:
    """The effective configuration: defaults < file < environment (see the module doc).

    Raises:
        ConfigFileError: The file or a variable has problems (each with its file:line or name).
        ConfigError: A named file is missing or unreadable.
    """
    env = os.environ if environ is None else environ
    path, how = find_file(explicit, cwd=cwd, environ=env)
    variables = tuple(sorted((k, v) for k, v in env.items() if k.startswith(ENV_PREFIX)))
    ident: tuple[object, ...] = (str(path), variables, env.get("HOME"))
    if path is not None:
        try:
            st = path.stat()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        ident = (*ident, st.st_mtime_ns, st.st_size, st.st_ino)
    with _lock:
        hit = _cache.get(ident)
    if hit is not None:
        return hit
    file_layer: Layer = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        file_layer = _resolve_paths(parse_file(text, str(path)), path.parent)
    env_layer = _resolve_paths(parse_env(env), None)
    effective = merge(file_layer, env_layer, None if path is None else str(path), how)
    with _lock:
        if len(_cache) > 16:
            _cache.clear()
        _cache[ident] = effective
    return effective


def _resolve_paths(layer: Layer, base: Path | None) -> Layer:
    """`~` expanded in path settings, and relative paths made relative to the file's folder."""
    out = dict(layer)
    for key, setting in layer.items():
        if BY_NAME[key].kind == "path" and isinstance(setting.value, str):
            p = Path(os.path.expanduser(setting.value))
            if base is not None and not p.is_absolute():
                p = base / p
            out[key] = replace(setting, value=str(p))
    return out


_explicit: str | None = None
_arguments: dict[tuple[str, str], tuple[object, str]] = {}


def use_file(path: str | os.PathLike[str] | None) -> None:
    """Make `current()` read `path` (the `--config` flag), or discover again with None."""
    global _explicit
    _explicit = None if path is None else os.fspath(path)


def use_arguments(assignments: list[str] | None) -> None:
    """Put `--set SECTION.KEY=VALUE` arguments on top of `current()` (None or [] clears them).

    Raises:
        ConfigError: An assignment that is malformed, names no setting, or has a bad value.
    """
    _arguments.clear()
    for text in assignments or []:
        dotted, eq, raw = text.partition("=")
        section, _, name = dotted.strip().partition(".")
        key = BY_NAME.get((section, name))
        if not eq or key is None:
            known = [k.dotted for k in KEYS]
            hint = did_you_mean(dotted.strip(), known) if eq else ": write SECTION.KEY=VALUE"
            raise ConfigError(f"--set {text}: no such setting{hint}")
        try:
            _arguments[(section, name)] = (from_text(key, raw), f"--set {dotted.strip()}")
        except BadValue as exc:
            raise ConfigError(f"--set {text}: {exc}") from None


def current() -> Effective:
    """The configuration of this process: the `--config` file (or discovery), `--set` on top."""
    eff = load(_explicit)
    return eff.with_arguments(_arguments) if _arguments else eff


__all__ = [
    "FILE_NAME",
    "ConfigFileError",
    "Effective",
    "Setting",
    "current",
    "find_file",
    "load",
    "use_arguments",
    "use_file",
    "user_config_path",
]
