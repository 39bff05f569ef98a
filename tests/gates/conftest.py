"""Fixtures for the gate tests: the copied real-world cases and configs written to tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from gates_support import GATES_DATA

from aikinklab_ops.config import Config, load_config


@pytest.fixture
def gates_data() -> Path:
    return GATES_DATA


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Config]:
    """Write ``ops.yml`` into tmp_path and load it the way the CLI does."""

    def write(text: str) -> Config:
        path = tmp_path / "ops.yml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_config(path, env={}, cwd=tmp_path)

    return write
