"""A file name that is not UTF-8 cannot be named to Vercel (JSON): refused with the file and a fix,
instead of sending a mangled name (a lone surrogate) that the deployment would serve under."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aikinklab_ops.deploy.files import list_files
from aikinklab_ops.errors import InputError


def test_a_non_utf8_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("hi")
    (tmp_path / "public").mkdir()
    with open(os.path.join(os.fsencode(tmp_path / "public"), b"caf\xe9.txt"), "wb") as fh:
        fh.write(b"x")
    with pytest.raises(InputError) as info:
        list_files(tmp_path)
    assert "public/caf" in str(info.value) and "UTF-8" in str(info.value)
    assert info.value.hint and "rename" in info.value.hint
