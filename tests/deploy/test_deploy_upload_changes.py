"""A tree changed during a deploy is the operator's to fix (exit 2), and the message says how."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from vercel_fake_api import FakeVercel, error

from aikinklab_ops.deploy.files import LocalFile
from aikinklab_ops.deploy.upload import upload_files
from aikinklab_ops.errors import InputError
from aikinklab_ops.vercel import VercelApiError, VercelClient


def _hashed(path: Path, data: bytes) -> LocalFile:
    path.write_bytes(data)
    return LocalFile(path.name, path, len(data), hashlib.sha1(data).hexdigest())


def test_a_file_rewritten_after_hashing_is_bad_input_with_a_hint(
    fake: FakeVercel, client: VercelClient, tmp_path: Path
) -> None:
    f = _hashed(tmp_path / "chg.txt", b"abc")
    f.abs_path.write_bytes(b"cba")  # same size, other content
    fake.add("POST", "/v2/files", status=400, json_body=error("invalid_digest", "The file's SHA-1 is not the one"))
    with pytest.raises(InputError) as info:
        upload_files(client, [f.sha], {f.sha: f}, concurrency=1)
    assert "chg.txt" in str(info.value) and "changed" in str(info.value)
    assert info.value.hint and "run the deploy again" in info.value.hint


def test_an_unchanged_file_refused_by_vercel_stays_vercels_error(
    fake: FakeVercel, client: VercelClient, tmp_path: Path
) -> None:
    f = _hashed(tmp_path / "same.txt", b"abc")
    fake.add("POST", "/v2/files", status=400, json_body=error("invalid_digest", "nope"))
    with pytest.raises(VercelApiError):
        upload_files(client, [f.sha], {f.sha: f}, concurrency=1)


def test_a_file_deleted_after_hashing_says_what_to_do(client: VercelClient, tmp_path: Path) -> None:
    f = _hashed(tmp_path / "gone.txt", b"abc")
    f.abs_path.unlink()
    with pytest.raises(InputError) as info:
        upload_files(client, [f.sha], {f.sha: f}, concurrency=1)
    assert "gone.txt" in str(info.value) and info.value.hint and "run the deploy again" in info.value.hint
