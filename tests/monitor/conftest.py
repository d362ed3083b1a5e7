"""Fixtures for monitor tests: a short temporary folder for sockets (Unix paths are short)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pm", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
