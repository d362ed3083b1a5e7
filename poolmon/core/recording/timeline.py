"""A replay's timeline: where it is, whether it plays, how fast, and seek targets typed in.

Why pure: pacing is arithmetic on two clocks (the recording's time and the viewer's monotonic
clock, handed in), and seek strings are user input that must fail with a clear message. The
replay source (`poolmon.runtime.recording.replay`) and the app only call in here, so every
rule (bounds, speeds, what "02:47" means) is tested without a terminal or a file.
"""

from __future__ import annotations

import re
from typing import Final

from poolmon.core.alerts.units import parse_duration

SPEEDS: Final = (1, 10, 60, 600)
"""Play speeds, slowest first (recording seconds per viewer second)."""

NS: Final = 1_000_000_000
_DAY_NS: Final = 86_400 * NS
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class Timeline:
    """Position, play state and speed over `[start_ns, end_ns]` (recording time).

    Args:
        start_ns: Receive time of the recording's first entry.
        end_ns: Receive time of its last readable entry.
    """

    def __init__(self, start_ns: int, end_ns: int) -> None:
        self.start_ns = start_ns
        self.end_ns = max(start_ns, end_ns)
        self.playing = False
        """Whether time moves (it stops by itself at the end)."""
        self.speed = SPEEDS[0]
        """Recording seconds per viewer second."""
        self._at_ns = start_ns
        self._since_mono_ns = 0

    def position(self, mono_ns: int) -> int:
        """The recording time shown at viewer time `mono_ns` (clamped to the recording)."""
        if not self.playing:
            return self._at_ns
        at = self._at_ns + (mono_ns - self._since_mono_ns) * self.speed
        if at >= self.end_ns:
            self._at_ns, self.playing = self.end_ns, False
            return self.end_ns
        return at

    def at_end(self, mono_ns: int) -> bool:
        """Whether the position is the end of the recording."""
        return self.position(mono_ns) >= self.end_ns

    def play(self, mono_ns: int) -> None:
        """Start moving (from the start again if at the end)."""
        if self.at_end(mono_ns):
            self._at_ns = self.start_ns
        self._rebase(mono_ns)
        self.playing = True

    def pause(self, mono_ns: int) -> None:
        """Stop where it is."""
        self._rebase(mono_ns)
        self.playing = False

    def toggle(self, mono_ns: int) -> None:
        """Play if paused, pause if playing."""
        if self.playing:
            self.pause(mono_ns)
        else:
            self.play(mono_ns)

    def set_speed(self, speed: int, mono_ns: int) -> None:
        """Change the speed without moving the position."""
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}, got {speed}")
        self._rebase(mono_ns)
        self.speed = speed

    def faster(self, mono_ns: int) -> None:
        """The next speed up (wraps from the fastest to 1x)."""
        self.set_speed(SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)], mono_ns)

    def seek(self, target_ns: int, mono_ns: int) -> int:
        """Move to `target_ns` (clamped to the recording); returns the position."""
        self._at_ns = min(max(target_ns, self.start_ns), self.end_ns)
        self._since_mono_ns = mono_ns
        return self._at_ns

    def _rebase(self, mono_ns: int) -> None:
        self._at_ns = self.position(mono_ns)
        self._since_mono_ns = mono_ns


def parse_seek(text: str, position_ns: int, start_ns: int, end_ns: int) -> int:
    """The recording time a typed seek means (not clamped: the timeline clamps).

    * `+5m`, `-30s`, `+1h30m`: relative to the position shown;
    * `02:47`, `02:47:13`: that UTC time of day within the recording (the first one from
      its start: a recording longer than a day reaches the first occurrence);
    * `5m`, `1h2m`: that far from the start of the recording;
    * `start`, `end`.

    Raises:
        ValueError: With an example of what is accepted.
    """
    s = text.strip().lower()
    if s in ("start", "begin"):
        return start_ns
    if s == "end":
        return end_ns
    clock = _CLOCK.fullmatch(s)
    if clock:
        hours, minutes, seconds = (int(g or 0) for g in clock.groups())
        if hours > 23 or minutes > 59 or seconds > 59:
            raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59:59)")
        of_day = (hours * 3600 + minutes * 60 + seconds) * NS
        day = start_ns - start_ns % _DAY_NS
        target = day + of_day
        return target if target >= start_ns - NS else target + _DAY_NS
    sign = 0
    if s[:1] in "+-" and s:
        sign = 1 if s[0] == "+" else -1
        s = s[1:].strip()
    try:
        seconds_f = parse_duration(s)
    except ValueError:
        raise ValueError(
            f"cannot seek to {text!r}: type a time of day (02:47 or 02:47:13 UTC), "
            "a step (+5m, -30s) or an offset from the start (12m)"
        ) from None
    offset = round(seconds_f * NS)
    if sign:
        return position_ns + sign * offset
    return start_ns + offset


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?", re.IGNORECASE)
_SIZE_UNITS: Final = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes in `500M`, `2G`, `64MiB`, `100k` or a plain number (binary units).

    Raises:
        ValueError: Anything else, or less than 1 MiB (a block alone may take that).
    """
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"bad size {text!r}: write e.g. 500M, 2G or 64MiB")
    unit = (match.group(2) or "").lower().rstrip("b").rstrip("i")
    size = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if size < 1 << 20:
        raise ValueError(f"size {text!r} is too small: at least 1M")
    return size
