"""The alert state file: what lets acknowledgments, silences and history outlive a pool restart.

Where: `$XDG_STATE_HOME/poolmon/<pool>/alerts.json` (`~/.local/state/poolmon/<pool>/` when
XDG_STATE_HOME is unset), or the folder given as `Pool(alert_state_dir=...)`. The folder is
created 0700: acknowledgment comments and silence reasons are an operator's words.

Why it is written the way it is:

* Atomically: the JSON goes to a temporary file in the same folder, is fsync-ed, then renamed
  over the old one (and the folder fsync-ed), so a crash or a full disk mid-write leaves the
  previous state intact, never half a file.
* Read defensively: a missing file is a clean start; a file that cannot be read, is not JSON,
  or is not ours is a clean start too, with the reason returned to the caller (who logs it and
  emits a `poolmon.error` warning) and the bad file kept aside as `alerts.json.corrupt-<ts>` so
  nothing an operator might want is deleted. Losing alert state must never stop a pool.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

FILE_NAME: Final = "alerts.json"
FORMAT: Final = 1
"""Version of the file's envelope; a file with another version is set aside, not misread."""


def default_state_root() -> Path:
    """`$XDG_STATE_HOME/poolmon`, else `~/.local/state/poolmon` (the XDG default)."""
    base = os.environ.get("XDG_STATE_HOME")
    if base and os.path.isabs(base):
        return Path(base) / "poolmon"
    return Path.home() / ".local" / "state" / "poolmon"


def safe_dir_name(pool: str) -> str:
    """A pool name made safe as one path component (any other character becomes `_`)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", pool).lstrip(".") or "_"
    return name[:128]


def state_path(pool: str, state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The state file of `pool`: in `state_dir` when given, else under `default_state_root()`."""
    if state_dir is not None:
        return Path(state_dir) / FILE_NAME
    return default_state_root() / safe_dir_name(pool) / FILE_NAME


@dataclass(frozen=True, slots=True)
class Loaded:
    """What `StateFile.load` found.

    Attributes:
        state: The engine's saved state (`AlertEngine.dump()`), or None for a clean start.
        problem: Why the file was not usable ("" when it was, or was simply missing).
        moved_to: Where an unusable file was set aside (None if it was not, or could not be).
    """

    state: dict[str, Any] | None
    problem: str = ""
    moved_to: Path | None = None


class StateFile:
    """Reads and atomically writes one pool's alert state.

    Args:
        path: The file (see `state_path`).
        pool: The pool's name, recorded in the file for a person reading it.
    """

    def __init__(self, path: Path, pool: str) -> None:
        self.path = path.absolute()  # the last save happens at shutdown: after any chdir
        self.pool = pool
        self.writes = 0
        """Successful saves since this object was made."""

    def load(self) -> Loaded:
        """Read the saved state; never raises (see the module docstring)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return Loaded(None)
        except OSError as exc:
            return Loaded(None, f"cannot read {self.path}: {exc.strerror or exc}")
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self.set_aside(f"{self.path} is not valid JSON ({exc})")
        problem = _envelope_problem(doc)
        if problem:
            return self.set_aside(f"{self.path}: {problem}")
        return Loaded(dict(doc["engine"]))

    def set_aside(self, problem: str) -> Loaded:
        """Rename the unusable file to `alerts.json.corrupt-<ts>` and report a clean start."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            return Loaded(None, f"{problem}; could not set it aside: {exc.strerror or exc}")
        return Loaded(None, f"{problem}; kept as {target.name}", target)

    def save(self, engine_state: Mapping[str, Any], now_ns: int) -> None:
        """Write the state atomically (temp file, fsync, rename, fsync of the folder).

        Raises:
            OSError: The folder cannot be made or written (the caller reports it; the
                previous file, if any, is untouched).
            TypeError / ValueError: The state is not JSON-serialisable (a bug upstream).
        """
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = {"format": FORMAT, "pool": self.pool, "saved_at_ns": now_ns, "engine": engine_state}
        data = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(folder)
        self.writes += 1


def _envelope_problem(doc: Any) -> str:
    """Why `doc` is not a state file of ours ("" when it is)."""
    if not isinstance(doc, dict):
        return f"expected a JSON object, found {type(doc).__name__}"
    if doc.get("format") != FORMAT:
        return f"unknown format {doc.get('format')!r} (this poolmon writes {FORMAT})"
    if not isinstance(doc.get("engine"), dict):
        return "the 'engine' section is missing or not an object"
    return ""


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
