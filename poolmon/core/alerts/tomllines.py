"""Line numbers for TOML keys, because `tomllib` gives values but not where they were written.

A rule file's errors must say `rules.toml:14: unknown metric 'eror_rate'`. `line_index(text)`
scans the text once and maps each key's path - `("rules", 2, "window")`, `("notify",
"group_wait")`, `("channels", 0)` - to the line it is on; `LineIndex.line_of(path)` answers for
the longest known prefix, so an element inside a multi-line array reports its key's line and a
missing key reports its table's header. The scanner understands what can hide a `[` or a `=`:
comments, basic and literal strings, multi-line strings, and arrays spanning lines.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from typing import Any

Path = tuple[str | int, ...]
"""A key's path: table names, array-of-tables indexes (0-based), key names."""


class LineIndex:
    """Key path -> 1-based line (see module doc)."""

    def __init__(self, lines: dict[Path, int]) -> None:
        self._lines = lines

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its longest recorded prefix; None if nothing matches."""
        p = tuple(path)
        while p:
            line = self._lines.get(p)
            if line is not None:
                return line
            p = p[:-1]
        return None

    __call__ = line_of


def _split_key(text: str) -> list[str]:
    """`a."b.c".d` -> ["a", "b.c", "d"] (bare, basic and literal quoted parts)."""
    parts, cur, i, n = [], "", 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if c == '"' and text[j] == "\\" else 1
            cur += text[i + 1 : j]
            i = j + 1
        elif c == ".":
            parts.append(cur.strip())
            cur = ""
            i += 1
        else:
            cur += c
            i += 1
    parts.append(cur.strip())
    return parts


class _Scanner:
    """State across lines: open multi-line strings and bracket depth of the current value."""

    def __init__(self) -> None:
        self.ml: str | None = None
        self.depth = 0

    def scan(self, line: str, start: int = 0) -> None:
        """Consume `line[start:]` as (part of) a value, updating the state."""
        i, n = start, len(line)
        while i < n:
            if self.ml is not None:
                j = line.find(self.ml, i)
                if j < 0:
                    return
                i = j + 3
                self.ml = None
                continue
            c = line[i]
            if c == "#":
                return
            if line.startswith(('"""', "'''"), i):
                self.ml = line[i : i + 3]
                i += 3
            elif c in "\"'":
                j = i + 1
                while j < n and line[j] != c:
                    j += 2 if c == '"' and line[j] == "\\" else 1
                i = j + 1
            else:
                if c in "[{":
                    self.depth += 1
                elif c in "]}":
                    self.depth = max(0, self.depth - 1)
                i += 1


def _key_end(line: str) -> int:
    """Index of the `=` ending a key (outside quotes), or -1."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            j = line.find(c, i + 1)
            i = n if j < 0 else j + 1
        elif c == "=":
            return i
        elif c == "#":
            return -1
        else:
            i += 1
    return -1


def line_index(text: str) -> LineIndex:
    """Index every table header and key of a TOML document by its path (see module doc)."""
    lines: dict[Path, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    current: Path = ()
    sc = _Scanner()

    def resolve(names: list[str]) -> Path:
        out: list[str | int] = []
        for k in range(len(names)):
            out.append(names[k])
            idx = arrays.get(tuple(names[: k + 1]))
            if idx is not None and k < len(names) - 1:
                out.append(idx)
        return tuple(out)

    for no, raw in enumerate(text.splitlines(), start=1):
        if sc.ml is not None or sc.depth > 0:
            sc.scan(raw)
            continue
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("[["):
            names = _split_key(s[2 : s.find("]]")])
            key = tuple(names)
            arrays[key] = arrays.get(key, -1) + 1
            for longer in [a for a in arrays if len(a) > len(key) and a[: len(key)] == key]:
                del arrays[longer]  # nested arrays start over in a new element
            current = (*resolve(names), arrays[key])
            lines[current] = no
            lines.setdefault(current[:-1], no)
        elif s.startswith("["):
            current = resolve(_split_key(s[1 : s.find("]")]))
            lines[current] = no
        else:
            eq = _key_end(raw)
            if eq < 0:
                continue
            path = (*current, *_split_key(raw[:eq]))
            lines.setdefault(path, no)
            sc.scan(raw, eq + 1)
    return LineIndex(lines)


class TomlSyntaxError(ValueError):
    """The text is not TOML; `line` is where tomllib stopped (None if it did not say)."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def parse_toml(text: str) -> tuple[dict[str, Any], LineIndex]:
    """The document (tomllib) and its line index; TomlSyntaxError for text that is not TOML."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise TomlSyntaxError(int(m.group(1)) if m else None, f"TOML: {exc}") from None
    return doc, line_index(text)
