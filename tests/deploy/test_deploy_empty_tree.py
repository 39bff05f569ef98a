"""An empty tree (or one the ignore rules empty) is refused with what to check."""

from __future__ import annotations

from pathlib import Path

import pytest

from aikinklab_ops.deploy.files import collect_files
from aikinklab_ops.errors import InputError


def test_nothing_to_deploy_says_what_to_check(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "a.js").write_text("x")
    (tmp_path / ".env").write_text("A=1")
    with pytest.raises(InputError) as info:
        collect_files(tmp_path)
    assert "nothing to deploy" in str(info.value)
    assert info.value.hint and "--path" in info.value.hint and ".vercelignore" in info.value.hint
