"""The exceptions poolmon raises, rooted in one class so callers can catch all of them.

Everything a user can get wrong (a setting out of range, a bad socket path, a frame that is not
poolmon's protocol) raises a subclass of `PoolmonError` with a message that says what to do.
"""

from __future__ import annotations


class PoolmonError(Exception):
    """Base class of every error poolmon raises on purpose."""


class ConfigError(PoolmonError, ValueError):
    """A setting is missing, malformed or outside its allowed range."""


class ProtocolError(PoolmonError):
    """Bytes on the monitor socket are not a valid poolmon protocol frame."""


class ConnectionFailed(PoolmonError):
    """A monitor could not reach or keep its connection to a pool's endpoint."""
