"""Fixtures for running our composite actions; the runner itself is in ``actions_runner.py``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from actions_runner import SITE, ActionRunner

from aikinklab_ops.sandbox.server import Sandbox
from aikinklab_ops.site.server import SiteServer, folder


@pytest.fixture
def action_runner(tmp_path: Path) -> ActionRunner:
    return ActionRunner(tmp_path)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A local Vercel on 127.0.0.1; ``sandbox.env()`` points the CLI at it."""
    with Sandbox(build_delay=0.01) as sb:
        yield sb


@pytest.fixture
def example_site() -> Iterator[str]:
    """The bundled example site on 127.0.0.1, the real thing ``verify`` is pointed at."""
    with SiteServer(folder(SITE)) as server:
        yield server.url


@pytest.fixture
def broken_site_dir(tmp_path: Path) -> Path:
    """The example site without its vercel.json: no health rewrite, no security headers."""
    copy = tmp_path / "broken-site"
    shutil.copytree(SITE, copy)
    (copy / "vercel.json").unlink()
    return copy


@pytest.fixture
def broken_site(broken_site_dir: Path) -> Iterator[str]:
    with SiteServer(folder(broken_site_dir)) as server:
        yield server.url
