"""Render a snapshot SVG to PNG with rsvg-convert so that it looks like the terminal.

Why: Textual's SVG places each run of same-styled text with `x` and `textLength` on a grid of
12.2 px cells, and writes spaces as no-break spaces. rsvg-convert (2.54) ignores `textLength`
and, without `xml:space="preserve"`, drops the spaces at the start and end of each run. Drawn
as is, every run after a coloured cell shifts left by its leading spaces (the worker table's
busy rows, "livewindow" in the header, a histogram's axis labels under the wrong bars), and
long runs drift by the font's own advance (DejaVu Sans Mono: 12.04 px, not 12.2). The
terminal shows none of that. This script adds `xml:space="preserve"` and a letter spacing
that brings DejaVu Sans Mono's advance to the cell width, then runs rsvg-convert.

Usage: python scripts/snapshot_png.py SNAPSHOT.svg OUT.png [WIDTH]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

CELL_PX = 12.2
"""Textual's SVG cell width at its 20 px font size."""
FONT_PX = 20.0
"""Textual's SVG font size."""
DEJAVU_ADVANCE_EM = 1233 / 2048
"""DejaVu Sans Mono's advance width (fc-match monospace on the dev machine)."""


def terminal_like(svg: str) -> str:
    """The SVG with spaces preserved and the font's advance stretched to the cell width."""
    size = re.search(r"font-size:\s*([\d.]+)px", svg)
    font_px = float(size.group(1)) if size else FONT_PX
    spacing = CELL_PX * font_px / FONT_PX - DEJAVU_ADVANCE_EM * font_px
    svg = svg.replace("<svg ", '<svg xml:space="preserve" ', 1)
    return svg.replace("</style>", f"text {{ letter-spacing: {spacing:.4f}px; }}\n</style>", 1)


def main(argv: list[str]) -> int:
    """Convert one file; exit code 2 with a usage line on bad arguments."""
    if len(argv) not in (2, 3):
        print("usage: python scripts/snapshot_png.py SNAPSHOT.svg OUT.png [WIDTH]", file=sys.stderr)
        return 2
    source, out = Path(argv[0]), Path(argv[1])
    width = argv[2] if len(argv) == 3 else "1600"
    with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False) as tmp:
        tmp.write(terminal_like(source.read_text()))
    try:
        subprocess.run(["rsvg-convert", "-w", width, tmp.name, "-o", str(out)], check=True)
    finally:
        Path(tmp.name).unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
