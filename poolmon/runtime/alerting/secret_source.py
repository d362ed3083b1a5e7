"""Read a channel's secret (SMTP password, webhook token) from the environment or a file.

Read once when the notifier is built, so a missing variable or unreadable file is a clear error
at pool start, not a failed page at 3 a.m. The value is wrapped in a `Secret` whose repr and str
are masked; messages name where the secret should be, never what it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from poolmon.core.alerts.notify_model import Secret, SecretRef
from poolmon.core.errors import ConfigError


def read_secret(ref: SecretRef, what: str) -> Secret:
    """The secret `ref` names; `what` says whose it is in errors (e.g. `channel ops: token`).

    Raises:
        ConfigError: The variable is unset or empty, or the file is missing, unreadable or empty.
    """
    if ref.env:
        value = os.environ.get(ref.env, "")
        if not value:
            raise ConfigError(f"{what}: environment variable {ref.env} is not set or empty")
        return Secret(value)
    path = Path(ref.file).expanduser()
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{what}: {path} is empty")
    return Secret(value)
