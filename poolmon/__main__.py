"""`python -m poolmon`: the same as the `poolmon` console script."""

from __future__ import annotations

import sys

from poolmon.cli import main

if __name__ == "__main__":
    sys.exit(main())
