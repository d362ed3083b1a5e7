"""Checks that a decoded frame's fields have the types the spec promises.

msgpack gives back whatever the peer sent; a frame class must never hold a string where an int
belongs, or the error would surface far from the socket, in the aggregator or a widget. Every
check raises `FrameError` naming the field, so the ERROR frame tells the peer what it got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from poolmon.core.protocol.frames import PROTOCOL_MAGIC, FrameError

_MISSING: Final[Any] = object()


def _get(m: Mapping[str, Any], key: str, default: Any) -> Any:
    value = m.get(key, default)
    if value is _MISSING:
        raise FrameError(f"missing field {key!r}")
    return value


def check_int(name: str, value: Any) -> int:
    """Return `value` if it is an int (not a bool), else raise `FrameError`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FrameError(f"field {name!r} must be an integer, not {type(value).__name__}")


def check_uint(name: str, value: Any) -> int:
    """Return `value` if it is a non-negative int, else raise `FrameError`."""
    if check_int(name, value) < 0:
        raise FrameError(f"field {name!r} must not be negative")
    return int(value)


def check_str(name: str, value: Any) -> str:
    """Return `value` if it is a str, else raise `FrameError`."""
    if isinstance(value, str):
        return value
    raise FrameError(f"field {name!r} must be a string, not {type(value).__name__}")


def check_str_tuple(name: str, value: Any) -> tuple[str, ...]:
    """Return a list of strings as a tuple, else raise `FrameError`."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise FrameError(f"field {name!r} must be an array of strings")


def check_map(name: str, value: Any) -> dict[str, Any]:
    """Return `value` if it is a map with string keys, else raise `FrameError`."""
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return value
    raise FrameError(f"field {name!r} must be a map with string keys")


def check_measurements(value: Any) -> dict[str, int | float]:
    """Return an event's measurements if every value is a number, else raise `FrameError`."""
    meas = check_map("event measurements", value)
    for key, number in meas.items():
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise FrameError(f"measurement {key!r} must be a number")
    return meas


def check_magic(m: Mapping[str, Any]) -> None:
    """Raise `FrameError` unless the handshake frame carries `PROTOCOL_MAGIC`."""
    if m.get("magic") != PROTOCOL_MAGIC:
        raise FrameError(f"handshake without magic {PROTOCOL_MAGIC!r}: not a poolmon peer")


def uint(m: Mapping[str, Any], key: str, default: Any = _MISSING) -> int:
    """Field `key` as a non-negative int (required unless `default` is given)."""
    return check_uint(key, _get(m, key, default))


def integer(m: Mapping[str, Any], key: str, default: Any = _MISSING) -> int:
    """Field `key` as an int (required unless `default` is given)."""
    return check_int(key, _get(m, key, default))


def string(m: Mapping[str, Any], key: str, default: Any = _MISSING) -> str:
    """Field `key` as a str (required unless `default` is given)."""
    return check_str(key, _get(m, key, default))


def boolean(m: Mapping[str, Any], key: str, default: Any = _MISSING) -> bool:
    """Field `key` as a bool (required unless `default` is given)."""
    value = _get(m, key, default)
    if isinstance(value, bool):
        return value
    raise FrameError(f"field {key!r} must be a boolean, not {type(value).__name__}")


def lst(m: Mapping[str, Any], key: str, default: Any = _MISSING) -> list[Any]:
    """Field `key` as an array (required unless `default` is given)."""
    value = _get(m, key, default)
    if isinstance(value, list):
        return value
    raise FrameError(f"field {key!r} must be an array, not {type(value).__name__}")
