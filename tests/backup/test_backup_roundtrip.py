"""A backup is only as good as its restore: every branch, tag and file must come back."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from backup_repos import NON_ASCII, SECRET, AppRepo, git, init_repo, refs

from aikinklab_ops.backup import create_backup, restore, verify_backup
from aikinklab_ops.backup.archive import parse_name
from aikinklab_ops.errors import InputError


def test_full_backup_restores_every_branch_tag_and_file(app_repo: AppRepo, tmp_path: Path) -> None:
    out = tmp_path / "backups"
    result = create_backup("full", repo=app_repo.path, output_dir=out)

    parsed = parse_name(result.archive.name)
    assert parsed is not None and parsed.type == "full"
    head = git(app_repo.path, "rev-parse", "HEAD").strip()
    assert result.archive.name.endswith(f"_{head[:7]}.tar.gz")
    assert sorted(p.name for p in out.iterdir()) == [result.archive.name, result.archive.name + ".sha256"]
    # The .sha256 beside it is in sha256sum format.
    subprocess.run(["sha256sum", "-c", result.archive.name + ".sha256"], cwd=out, check=True, capture_output=True)

    with tarfile.open(result.archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert manifest["type"] == "full" and manifest["repository"]["commit"] == head
    listed = {row["path"] for row in manifest["files"]}
    assert listed == set(names[1:])
    assert all(len(row["sha256"]) == 64 and row["size"] >= 0 for row in manifest["files"])

    into = tmp_path / "restored"
    got = restore(result.archive, into=into)

    repo = into / "repository"
    assert set(got.branches) == app_repo.branches
    assert set(got.tags) == app_repo.tags
    # Same objects under the same names: branches, and tags (annotated ones keep their tag object).
    assert refs(repo, "refs/heads") == refs(app_repo.path, "refs/heads")
    assert refs(repo, "refs/tags") == refs(app_repo.path, "refs/tags")
    assert git(repo, "cat-file", "-t", "v1.0").strip() == "tag"
    assert git(repo, "cat-file", "-t", "v0.9").strip() == "commit"
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "status", "--porcelain").strip() == ""
    assert (repo / NON_ASCII).read_text(encoding="utf-8") == "# Café\n"
    assert git(repo, "rev-list", "--merges", "--count", "main").strip() == "1"
    subprocess.run(["git", "fsck", "--full"], cwd=repo, check=True, capture_output=True)

    assert (into / "config" / "vercel.json").read_text() == '{"cleanUrls": true}\n'
    assert (into / "config" / "next.config.mjs").is_file()
    assert (into / "config" / "config" / "site.json").is_file()
    assert (into / "config" / ".vercel" / "project.json").is_file()
    assert (into / "config" / ".github" / "workflows" / "ci.yml").is_file()
    assert (into / "config" / ".env.example").read_text() == "DATABASE_URL=\nSTRIPE_SECRET_KEY=\n"
    assert (into / "assets" / "public" / "hero.bin").read_bytes() == (
        app_repo.path / "public" / "hero.bin"
    ).read_bytes()
    assert (into / "monitoring" / "uptime.json").read_text() == '{"uptime": 99.95}\n'
    # Every file the manifest lists is back, byte for byte, in its folder.
    folders = {"config": "config", "assets": "assets", "monitoring": "monitoring"}
    for row in manifest["files"]:
        top, _, rest = row["path"].partition("/")
        if top == "code":
            continue
        restored = into / folders[top] / rest
        assert hashlib.sha256(restored.read_bytes()).hexdigest() == row["sha256"], row["path"]
    assert sorted(got.files) == sorted(r["path"] for r in manifest["files"] if r["kind"] != "code")
    env = (into / "config" / ".env.local").read_text()
    assert "STRIPE_SECRET_KEY=" in env and "PUBLIC_NAME=" in env and SECRET not in env
    assert got.within_rto and got.elapsed_s > 0
    assert any("npm ci" in step for step in got.next_steps)
    assert any("deploy" in step for step in got.next_steps)


def test_ci_checkout_with_remote_only_branches_keeps_them_all(app_repo: AppRepo, tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "--no-local", str(app_repo.path), str(ci))
    assert set(refs(ci, "refs/heads")) == {"refs/heads/main"}  # like actions/checkout: one local branch

    result = create_backup("code", repo=ci, output_dir=tmp_path / "out")
    assert result.counts["branches"] == 3
    got = restore(result.archive, into=tmp_path / "restored")

    assert set(got.branches) == app_repo.branches
    repo = tmp_path / "restored" / "repository"
    assert refs(repo, "refs/heads") == refs(app_repo.path, "refs/heads")
    assert set(refs(repo, "refs/tags")) == set(refs(app_repo.path, "refs/tags"))
    # The clone's origin is the original remote, never the throwaway bundle path.
    assert git(repo, "remote", "get-url", "origin").strip() == str(app_repo.path)


def test_code_backup_holds_only_the_bundle(app_repo: AppRepo, tmp_path: Path) -> None:
    result = create_backup("code", repo=app_repo.path, output_dir=tmp_path / "out")
    assert [row["path"] for row in result.manifest["files"]] == ["code/repository.bundle"]
    assert result.verification.check("bundle").status.value == "pass"


def test_config_backup_has_no_repository(app_repo: AppRepo, tmp_path: Path) -> None:
    result = create_backup("config", repo=app_repo.path, output_dir=tmp_path / "out")
    paths = {row["path"] for row in result.manifest["files"]}
    assert "code/repository.bundle" not in paths
    assert {"config/package.json", "config/vercel.json", "config/.env.local", "config/.env.example"} <= paths
    assert not any(p.startswith("assets/") for p in paths)
    got = restore(result.archive, into=tmp_path / "r")
    assert got.repository is None and not (tmp_path / "r" / "repository").exists()


def test_shallow_clone_is_refused_with_the_fix(app_repo: AppRepo, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{app_repo.path}", str(shallow))
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        create_backup("full", repo=shallow, output_dir=out)
    assert "shallow" in err.value.message
    assert "fetch-depth: 0" in (err.value.hint or "")
    assert not out.exists() or not any(out.iterdir())


def test_empty_repository_is_a_clear_error(tmp_path: Path) -> None:
    empty = init_repo(tmp_path / "empty")
    with pytest.raises(InputError, match="no commits"):
        create_backup("code", repo=empty, output_dir=tmp_path / "out")


def test_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a git repository"):
        create_backup("full", repo=tmp_path / "plain", output_dir=tmp_path / "out")


def test_secret_value_is_in_no_unencrypted_archive(app_repo: AppRepo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for kind in ("full", "config"):
        create_backup(kind, repo=app_repo.path, output_dir=out / kind)
    archives = sorted(out.rglob("*.tar.gz"))
    assert len(archives) == 2
    for archive in archives:
        raw = gzip.decompress(archive.read_bytes())
        assert SECRET.encode() not in raw
        assert b"STRIPE_SECRET_KEY=" in raw  # the key is kept


def test_interrupted_run_leaves_nothing_that_looks_like_a_backup(
    app_repo: AppRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aikinklab_ops.backup.create as create_mod

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(create_mod, "verify_backup", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        create_backup("full", repo=app_repo.path, output_dir=out)
    assert list(out.iterdir()) == []


def test_verify_is_a_restore_drill(app_repo: AppRepo, tmp_path: Path) -> None:
    result = create_backup("full", repo=app_repo.path, output_dir=tmp_path / "out")
    report = verify_backup(result.archive)
    assert report.kind == "backup-verify" and report.ok
    assert [c.name for c in report.checks] == ["archive-checksum", "manifest", "checksums", "complete", "bundle"]
    assert report.check("bundle").details["branches"] == 3
    assert report.check("bundle").details["tags"] == 3


def test_a_file_changing_during_the_backup_aborts_it(
    app_repo: AppRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aikinklab_ops.backup.archive as ar

    real = ar.entry_from_file

    def then_change(path: str, kind: str, source: Path, progress: object = None) -> ar.Entry:
        entry = real(path, kind, source, progress)  # type: ignore[arg-type]
        if path == "assets/public/hero.bin":
            with open(source, "r+b") as fh:  # same size, different bytes: only the hash can tell
                fh.write(b"X")
        return entry

    monkeypatch.setattr(ar, "entry_from_file", then_change)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="changed while the backup was being written"):
        create_backup("full", repo=app_repo.path, output_dir=out)
    assert list(out.iterdir()) == []


def test_ctrl_c_while_packing_stops_cleanly(app_repo: AppRepo, tmp_path: Path) -> None:
    class Interrupting:
        def __init__(self) -> None:
            self.packing = False

        def start(self, label: str, total: int | None = None, unit: str = "") -> None:
            self.packing = label == "packing"

        def advance(self, n: int = 1, *, note: str | None = None) -> None:
            if self.packing:
                raise KeyboardInterrupt

        def message(self, text: str) -> None:
            pass

        def finish(self, note: str | None = None) -> None:
            pass

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        create_backup("full", repo=app_repo.path, output_dir=out, progress=Interrupting())
    assert list(out.iterdir()) == []
