"""Problems an operator found by using the tool on real repositories; each test pins one fix."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from backup_repos import AppRepo, git, init_repo

from aikinklab_ops.backup import Retention, backup_status, create_backup, list_local, prune, restore, verify_backup
from aikinklab_ops.backup import archive as ar
from aikinklab_ops.backup import create as create_mod
from aikinklab_ops.backup.envfiles import redact_env
from aikinklab_ops.backup.gitrepo import inspect_repo
from aikinklab_ops.errors import InputError


def _rebuild(good: Path, dest: Path, extra: list[tuple[str, bytes]]) -> Path:
    """``good`` plus regular-file members ``extra``, each also listed in the manifest."""
    with tarfile.open(good, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    manifest = json.loads(members[0][1])
    for name, data in extra:
        manifest["files"].append(
            {"path": name, "kind": "config", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
        members.append((tarfile.TarInfo(name), data))
    members[0] = (members[0][0], json.dumps(manifest).encode())
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def test_commented_out_assignments_lose_their_values() -> None:
    text, keys = redact_env("# OLD_KEY=sk_live_old\n  #export TOKEN = 'tok_old'\n# just a comment\nKEY=v\n")
    assert "sk_live_old" not in text and "tok_old" not in text
    assert "# OLD_KEY=" in text and "# just a comment" in text
    assert keys == ["KEY"]


def test_escaped_quote_on_a_continuation_line_does_not_end_the_value() -> None:
    text, _ = redact_env('JSON="{\n  \\"k\\": 1,\nLEAKED_PART=x\n}"\nNEXT=y\n')
    assert "LEAKED_PART" not in text
    assert text.endswith("JSON=\nNEXT=\n")


def test_work_on_a_detached_head_is_in_the_bundle(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "app")
    (repo / "a.txt").write_text("a\n", encoding="utf-8")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    git(repo, "checkout", "-q", "--detach")
    (repo / "b.txt").write_text("b\n", encoding="utf-8")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "work on no branch")
    head = git(repo, "rev-parse", "HEAD").strip()
    result = create_backup("code", repo=repo, output_dir=tmp_path / "out")
    assert head in result.manifest["repository"]["refs"].values()
    restored = restore(result.archive, into=tmp_path / "r")
    assert git(restored.repository, "cat-file", "-t", head).strip() == "commit"  # type: ignore[arg-type]


def test_bare_repository_gets_a_code_backup_and_a_clear_refusal_otherwise(app_repo: AppRepo, tmp_path: Path) -> None:
    bare = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(app_repo.path), str(bare))
    result = create_backup("code", repo=bare, output_dir=tmp_path / "out")
    assert set(result.manifest["repository"]["refs"]) >= {f"refs/heads/{b}" for b in app_repo.branches}
    with pytest.raises(InputError, match="bare repository"):
        create_backup("full", repo=bare, output_dir=tmp_path / "out2")
    assert inspect_repo(bare).root == bare.resolve()


def test_ctrl_c_with_a_full_compression_queue_stops_at_once() -> None:
    release = threading.Event()

    class SlowSink:
        def write(self, data: bytes) -> int:
            release.wait(0.05)
            return len(data)

    gz = ar.ParallelGzipWriter(SlowSink(), level=1, depth=2)
    block = bytes(ar.CHUNK)
    for _ in range(6):  # more than the queue holds: the producer is ahead of the compressor
        gz.write(block)
    t0 = time.monotonic()
    gz.abort()
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("name", ["config/./vercel.json", "config//vercel.json", "config/x/", "assets/."])
def test_names_that_are_not_canonical_are_unsafe(name: str) -> None:
    assert ar.safe_member_name(name)


@pytest.mark.parametrize(
    "extra",
    [
        [("config/./vercel.json", b"evil\n")],  # a second spelling of an existing member
        [("elsewhere/evil.txt", b"evil\n")],  # outside the archive's layout
        [("code/hook.sh", b"evil\n")],
        [("config/vercel.json/inner", b"evil\n")],  # a file and a folder of the same name
    ],
)
def test_what_restore_would_refuse_fails_verification_too(
    good: Path, tmp_path: Path, extra: list[tuple[str, bytes]]
) -> None:
    evil = _rebuild(good, tmp_path / "evil" / good.name, extra)
    assert not verify_backup(evil).ok
    into = tmp_path / "into"
    with pytest.raises(InputError, match="nothing restored"):
        restore(evil, into=into)
    assert not into.exists() or list(into.iterdir()) == []


def test_a_file_where_a_folder_goes_is_refused_before_anything_is_written(good: Path, tmp_path: Path) -> None:
    for force in (False, True):
        into = tmp_path / f"into-{force}"
        into.mkdir()
        (into / "config").write_text("mine\n", encoding="utf-8")
        with pytest.raises(InputError, match="nothing restored"):
            restore(good, into=into, force=force)
        assert sorted(p.name for p in into.iterdir()) == ["config"]


def test_a_dangling_link_where_a_folder_goes_is_refused_before_anything_is_written(good: Path, tmp_path: Path) -> None:
    into = tmp_path / "into"
    into.mkdir()
    (into / "config").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="nothing restored"):
        restore(good, into=into, force=True)
    assert sorted(p.name for p in into.iterdir()) == ["config"]


def test_a_folder_where_a_file_goes_is_refused_before_anything_is_written(good: Path, tmp_path: Path) -> None:
    into = tmp_path / "into"
    (into / "config" / "vercel.json").mkdir(parents=True)
    with pytest.raises(InputError, match="nothing restored"):
        restore(good, into=into, force=True)
    assert sorted(p.name for p in into.iterdir()) == ["config"]


def test_a_file_named_repository_in_the_target_is_a_clear_refusal(good: Path, tmp_path: Path) -> None:
    into = tmp_path / "into"
    into.mkdir()
    (into / "repository").write_text("mine\n", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(InputError, match="nothing restored"):
            restore(good, into=into, force=force)
        assert sorted(p.name for p in into.iterdir()) == ["repository"]


def test_env_file_inside_a_config_folder_loses_its_values(app_repo: AppRepo, tmp_path: Path) -> None:
    (app_repo.path / "config" / ".env.production").write_text("API_KEY=cfg_secret_77\n", encoding="utf-8")
    result = create_backup("config", repo=app_repo.path, output_dir=tmp_path / "out")
    with tarfile.open(result.archive, "r:gz") as tar:
        member = tar.extractfile("config/config/.env.production")
        assert member is not None
        text = member.read().decode()
    assert "cfg_secret_77" not in text and "API_KEY=" in text
    rows = {r["path"]: r["kind"] for r in result.manifest["files"]}
    assert rows["config/config/.env.production"] == "env"
    assert rows["config/.env.example"] == "config"  # named in config_files: kept as it is


def test_linked_config_and_env_files_are_reported_not_silently_dropped(app_repo: AppRepo, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text("{}\n", encoding="utf-8")
    (app_repo.path / "vercel.json").unlink()
    (app_repo.path / "vercel.json").symlink_to(real)
    (app_repo.path / ".env.production").symlink_to(app_repo.path / ".env.local")
    result = create_backup("config", repo=app_repo.path, output_dir=tmp_path / "out")
    assert any("vercel.json" in w and ".env.production" in w for w in result.warnings)


def test_a_fresh_config_backup_does_not_meet_the_rpo_for_the_code(app_repo: AppRepo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    now = datetime.now(timezone.utc)
    create_backup("code", repo=app_repo.path, output_dir=out, now=now - timedelta(days=3))
    create_backup("config", repo=app_repo.path, output_dir=out, now=now)
    report = backup_status(out, rpo_hours=24, now=now)
    assert not report.ok
    assert "_code_" in report.checks[0].details["newest"]


def test_an_asset_whose_name_is_not_utf8_is_a_warning_not_a_crash(app_repo: AppRepo, tmp_path: Path) -> None:
    with open(os.path.join(os.fsencode(app_repo.path / "public"), b"\xff-latin1.png"), "wb") as fh:
        fh.write(b"img")
    result = create_backup("full", repo=app_repo.path, output_dir=tmp_path / "out")
    assert any("public/\\xff-latin1.png" in w for w in result.warnings)
    assert verify_backup(result.archive).ok


def test_ctrl_c_between_the_two_renames_leaves_no_archive(
    app_repo: AppRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = os.replace

    def replace(src: object, dst: object) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(create_mod.os, "replace", replace)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        create_backup("code", repo=app_repo.path, output_dir=out)
    assert list_local(out) == []


def test_a_remote_only_branch_comes_from_origin_not_from_a_fork_that_sorts_first(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "app")
    for name in ("a", "b"):
        (repo / f"{name}.txt").write_text(name, encoding="utf-8")
        git(repo, "add", f"{name}.txt")
        git(repo, "commit", "-q", "-m", name)
    git(repo, "update-ref", "refs/remotes/fork/feature", "HEAD~1")  # "fork" sorts before "origin"
    git(repo, "update-ref", "refs/remotes/origin/feature", "HEAD")
    info = inspect_repo(repo)
    assert info.refs["refs/heads/feature"] == git(repo, "rev-parse", "HEAD").strip()


def test_fresh_config_backups_do_not_let_prune_take_the_last_code_backups(app_repo: AppRepo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    now = datetime.now(timezone.utc)
    old = [
        create_backup("code", repo=app_repo.path, output_dir=out, now=now - timedelta(days=40 + d)) for d in range(4)
    ]
    for h in range(3):  # the code job stalled; an hourly config job kept running
        create_backup("config", repo=app_repo.path, output_dir=out, now=now - timedelta(hours=h))
    result = prune(out, retention=Retention(local_days=30, keep_min=3), now=now)
    assert [i.name for i in result.removed] == [old[3].archive.name]
    assert all(r.archive.exists() for r in old[:3])
