"""Fixtures for the backup tests: a real git repository shaped like the app's, fresh for each test,
and a verified full backup of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from backup_repos import AppRepo, make_app_repo

from aikinklab_ops.backup import create_backup


@pytest.fixture
def app_repo(tmp_path: Path) -> AppRepo:
    return make_app_repo(tmp_path / "app")


@pytest.fixture
def good(app_repo: AppRepo, tmp_path: Path) -> Path:
    """A full backup archive that passes verification, for tests that damage or extend a copy of it."""
    return create_backup("full", repo=app_repo.path, output_dir=tmp_path / "out").archive
