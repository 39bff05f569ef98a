"""Encrypted backups: the standard age tool opens them, env files are kept whole, keys are checked."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pyrage
import pytest
from backup_repos import SECRET, AppRepo, age_keygen

from aikinklab_ops.backup import create_backup, restore, verify_backup
from aikinklab_ops.backup.archive import load_identities
from aikinklab_ops.errors import InputError


def test_encrypted_archive_opens_with_the_age_cli(app_repo: AppRepo, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    recipient = age_keygen(key)
    result = create_backup("full", repo=app_repo.path, output_dir=tmp_path / "out", recipients=[recipient])

    assert result.archive.name.endswith(".tar.gz.age")
    blob = result.archive.read_bytes()
    assert blob.startswith(b"age-encryption.org/v1")
    assert SECRET.encode() not in blob

    plain = subprocess.run(["age", "-d", "-i", str(key), str(result.archive)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
        assert tar.getnames()[0] == "manifest.json"
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        env = tar.extractfile("config/.env.local").read().decode()  # type: ignore[union-attr]
    assert manifest["encrypted"] is True and manifest["env_values"] == "kept"
    assert f"STRIPE_SECRET_KEY={SECRET}" in env  # kept whole inside the encryption

    ids = load_identities([key])
    assert verify_backup(result.archive, identities=ids).ok
    got = restore(result.archive, into=tmp_path / "r", identities=ids)
    assert SECRET in (tmp_path / "r" / "config" / ".env.local").read_text()
    assert len(got.branches) == 3


def test_encrypted_archive_needs_the_right_identity(app_repo: AppRepo, tmp_path: Path) -> None:
    ident = pyrage.x25519.Identity.generate()
    archive = create_backup(
        "config", repo=app_repo.path, output_dir=tmp_path / "out", recipients=[str(ident.to_public())]
    ).archive
    with pytest.raises(InputError, match="encrypted") as err:
        restore(archive, into=tmp_path / "r")
    assert "--identity" in (err.value.hint or "")
    with pytest.raises(InputError, match="encrypted"):
        verify_backup(archive)
    other = tmp_path / "other.txt"
    age_keygen(other)
    with pytest.raises(InputError, match="none of the given identities"):
        restore(archive, into=tmp_path / "r", identities=load_identities([other]))
    assert not (tmp_path / "r").exists()
    assert restore(archive, into=tmp_path / "r", identities=[ident]).files


def test_bad_recipient_is_a_usage_error_and_leaves_nothing(app_repo: AppRepo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match="age recipient"):
        create_backup("config", repo=app_repo.path, output_dir=out, recipients=["age1notakey"])
    assert not out.exists()


def test_identity_file_without_a_key_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "key.txt"
    f.write_text("# nothing here\n")
    with pytest.raises(InputError, match="no AGE-SECRET-KEY"):
        load_identities([f])


def test_truncated_encrypted_archive_is_refused(app_repo: AppRepo, tmp_path: Path) -> None:
    ident = pyrage.x25519.Identity.generate()
    archive = create_backup(
        "full", repo=app_repo.path, output_dir=tmp_path / "out", recipients=[str(ident.to_public())]
    ).archive
    cut = tmp_path / archive.name
    data = archive.read_bytes()
    cut.write_bytes(data[: len(data) - 300])
    report = verify_backup(cut, identities=[ident])
    assert not report.ok and "truncated" in report.check("readable").summary
    with pytest.raises(InputError, match="truncated"):
        restore(cut, into=tmp_path / "r", identities=[ident])
    assert not (tmp_path / "r").exists()
