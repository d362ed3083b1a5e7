"""The file channel: one JSON object per line (the generic webhook body), rotated by size.

For a machine with no mail or webhook receiver, and for audits: `jq` reads it, `tail -f` follows
it. Before a line would take the file past `max_bytes` the file is rotated as logrotate does
(PATH -> PATH.1 -> ... -> PATH.N, the oldest dropped); with `backups = 0` it starts over. Each
line is written and flushed whole, so a reader never sees half a record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import FileSettings
from poolmon.core.alerts.notify_render import generic_body
from poolmon.runtime.alerting.channels.base import DeliveryError


class FileChannel:
    """Appends notifications to a JSON-lines file with size-based rotation."""

    def __init__(self, name: str, settings: FileSettings) -> None:
        self.name = name
        self._path = Path(settings.path).expanduser()
        self._max_bytes = settings.max_bytes
        self._backups = settings.backups
        self._out: IO[bytes] | None = None

    def send(self, n: Notification) -> None:
        """Append `n` as one line, rotating first if it would not fit."""
        line = (json.dumps(generic_body(n), separators=(",", ":")) + "\n").encode()
        try:
            out = self._open()
            if out.tell() and out.tell() + len(line) > self._max_bytes:
                self._rotate()
                out = self._open()
            out.write(line)
            out.flush()
        except OSError as exc:
            self.close()
            raise DeliveryError(f"cannot write {self._path}: {exc.strerror or exc}") from None

    def _open(self) -> IO[bytes]:
        if self._out is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._out = open(self._path, "ab")  # noqa: SIM115 - kept open across sends
        return self._out

    def _rotate(self) -> None:
        self.close()
        if self._backups == 0:
            self._path.unlink(missing_ok=True)
            return
        for i in range(self._backups - 1, 0, -1):
            older = self._path.with_name(f"{self._path.name}.{i}")
            if older.exists():
                os.replace(older, self._path.with_name(f"{self._path.name}.{i + 1}"))
        os.replace(self._path, self._path.with_name(f"{self._path.name}.1"))

    def close(self) -> None:
        """Close the file (reopened by the next send)."""
        if self._out is not None:
            try:
                self._out.close()
            finally:
                self._out = None
