"""Symbolic links never smuggle in content the tree itself would not upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.deploy.files import list_files
from aikinklab_ops.errors import InputError


def _app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "public").mkdir(parents=True)
    (app / "index.html").write_text("<h1>hi</h1>")
    return app


def test_a_link_to_a_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    app = _app(tmp_path)
    secret = tmp_path / "runner-credentials"
    secret.write_text("ghp_not-for-the-public")
    (app / "public" / "logo.svg").symlink_to(secret)
    with pytest.raises(InputError) as info:
        list_files(app)
    assert "public/logo.svg" in str(info.value) and "outside" in str(info.value)
    assert info.value.hint and ".vercelignore" in info.value.hint


def test_a_link_to_an_excluded_file_inside_the_tree_is_refused(tmp_path: Path) -> None:
    app = _app(tmp_path)
    (app / ".git").mkdir()
    (app / ".git" / "config").write_text("extraheader = AUTHORIZATION: basic c2VjcmV0")
    (app / ".env").write_text("API_KEY=1")
    (app / "config.txt").symlink_to(app / ".git" / "config")
    with pytest.raises(InputError, match=r"config\.txt"):
        list_files(app)
    (app / "config.txt").unlink()
    (app / "settings.txt").symlink_to(".env")
    with pytest.raises(InputError, match=r"settings\.txt"):
        list_files(app)
    _, found = list_files(app, include_env_files=True)
    assert "settings.txt" in [rel for rel, _ in found], "with --include-env-files the link is fine"


def test_links_inside_the_tree_and_ignored_links_are_fine(tmp_path: Path) -> None:
    app = _app(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    (app / "home.html").symlink_to("index.html")
    (app / "leak.txt").symlink_to(outside)
    (app / ".vercelignore").write_text("leak.txt\n")
    _, found = list_files(app)
    assert [rel for rel, _ in found] == ["home.html", "index.html"]
