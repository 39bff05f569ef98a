"""Fixtures for the backup tests: a real git repository shaped like the app's, fresh for each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from backup_repos import AppRepo, make_app_repo


@pytest.fixture
def app_repo(tmp_path: Path) -> AppRepo:
    return make_app_repo(tmp_path / "app")
