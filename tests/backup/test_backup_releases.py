"""Backups as GitHub releases, through PyGithub against a responses-backed fake of the REST API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import responses
from backup_fake_github import API, REPO, UPLOADS, FakeGitHub
from backup_repos import AppRepo, refs

from aikinklab_ops.backup import Retention, create_backup, prune, restore
from aikinklab_ops.errors import ApiError
from aikinklab_ops.github.releases import ReleaseStore


@pytest.fixture
def fake(mocked_api: responses.RequestsMock) -> FakeGitHub:
    return FakeGitHub(mocked_api)


def _store(waits: list[float] | None = None) -> ReleaseStore:
    sink = waits if waits is not None else []
    return ReleaseStore(
        "ghs_testtoken123456", REPO, api_url=API, seconds_between_writes=0, upload_attempts=3, sleep=sink.append
    )


@pytest.fixture
def archive(app_repo: AppRepo, tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_backup("full", repo=app_repo.path, output_dir=tmp_path / "out")


def test_publish_is_draft_then_assets_then_publish(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    published = _store().publish(
        archive.archive, archive.sha256, tag="backup-2026-12-03-090000", commit="abc123", body="b", part_size=1 << 30
    )
    assert published.tag == "backup-2026-12-03-090000" and published.complete
    writes = [(m, u, b) for m, u, b in fake.calls if m != "GET"]
    create, up1, up2, publish = writes
    assert create[0] == "POST" and create[1] == f"{API}/repos/{REPO}/releases"
    assert create[2]["draft"] is True and create[2]["prerelease"] is True
    assert create[2]["make_latest"] == "false" and create[2]["target_commitish"] == "abc123"
    assert up1[1].startswith(f"{UPLOADS}/repos/{REPO}/releases/")
    assert up1[2] == {"name": archive.archive.name, "content_type": "application/gzip", "size": archive.size}
    assert up2[2]["name"] == archive.archive.name + ".sha256"
    assert publish[0] == "PATCH" and publish[2]["draft"] is False and publish[2]["make_latest"] == "false"
    assert publish[2]["prerelease"] is True
    rid = published.release_id
    assert fake.blobs[fake.releases[rid]["assets"][0]["id"]] == archive.archive.read_bytes()


def test_existing_tag_gets_a_suffix_never_overwritten(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    fake.tags.add("backup-2026-12-03-090000")  # a tag without a release
    fake.add_release("backup-2026-12-03-090000-2", "2026-12-03T09:00:00Z", assets=[])
    got = _store().publish(
        archive.archive, archive.sha256, tag="backup-2026-12-03-090000", commit=None, body="", part_size=1 << 30
    )
    assert got.tag == "backup-2026-12-03-090000-3"


def test_failed_upload_leftover_is_deleted_before_retrying(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    fake.upload_failures.append((502, {}, {"message": "Bad Gateway"}))
    waits: list[float] = []
    got = _store(waits).publish(
        archive.archive, archive.sha256, tag="backup-x", commit=None, body="", part_size=1 << 30
    )
    methods = [(m, u.split("?")[0].rsplit("/", 2)[-2:]) for m, u, _ in fake.calls]
    first_upload = next(i for i, (m, _) in enumerate(methods) if m == "POST" and "assets" in _[-1])
    # after the failed POST: list the assets, delete the half-made one, then POST again
    assert methods[first_upload + 1][0] == "GET"
    assert methods[first_upload + 2][0] == "DELETE"
    assert methods[first_upload + 3][0] == "POST"
    assert len(waits) == 1
    names = fake.asset_names(got.release_id)
    assert names.count(archive.archive.name) == 1
    asset = next(a for a in fake.releases[got.release_id]["assets"] if a["name"] == archive.archive.name)
    assert fake.blobs[asset["id"]] == archive.archive.read_bytes()


def test_secondary_rate_limit_is_waited_out(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    fake.upload_failures.append(
        (403, {"Retry-After": "7"}, {"message": "You have exceeded a secondary rate limit. Please wait."})
    )
    waits: list[float] = []
    got = _store(waits).publish(
        archive.archive, archive.sha256, tag="backup-y", commit=None, body="", part_size=1 << 30
    )
    assert waits == [7.0] and got.complete


def test_rate_limit_longer_than_the_bound_gives_up_clearly(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    fake.upload_failures.append((429, {"Retry-After": "3600"}, {"message": "secondary rate limit"}))
    with pytest.raises(ApiError, match="rate limited") as err:
        _store().publish(archive.archive, archive.sha256, tag="backup-z", commit=None, body="", part_size=1 << 30)
    assert "minutes" in (err.value.hint or "")
    assert fake.releases == {}  # the draft was removed


def test_non_retryable_upload_error_deletes_the_draft(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    fake.upload_failures.append((403, {}, {"message": "Resource not accessible by integration"}))
    with pytest.raises(ApiError, match="HTTP 403") as err:
        _store().publish(archive.archive, archive.sha256, tag="backup-q", commit=None, body="", part_size=1 << 30)
    assert "contents: write" in (err.value.hint or "")
    assert fake.releases == {}


def test_large_archive_goes_up_in_parts_and_comes_back_joined(
    fake: FakeGitHub,
    archive,
    app_repo: AppRepo,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    part = 1500
    got = _store().publish(archive.archive, archive.sha256, tag="backup-parts", commit=None, body="", part_size=part)
    names = fake.asset_names(got.release_id)
    n_parts = -(-archive.size // part)
    assert n_parts >= 2
    assert [n for n in names if re.search(r"\.part\d{3}$", n)] == [
        f"{archive.archive.name}.part{i:03d}" for i in range(1, n_parts + 1)
    ]
    assert archive.archive.name + ".parts.json" in names and archive.archive.name not in names

    dl = tmp_path / "dl"
    dl.mkdir()
    path, expected = _store().download("backup-parts", dl)
    assert path.read_bytes() == archive.archive.read_bytes() and expected == archive.sha256
    restored = restore(path, into=tmp_path / "r", expected_sha256=expected)
    assert refs(tmp_path / "r" / "repository", "refs/heads") == refs(app_repo.path, "refs/heads")
    assert set(restored.tags) == {"v0.9", "v1.0", "spike-1"}


def test_prune_removes_old_releases_and_their_tags_but_keeps_the_newest_three(fake: FakeGitHub) -> None:
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)

    def ago(days: int) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def complete(tag: str) -> list[str]:
        name = f"aikinklab_backup_full_{tag[7:17].replace('-', '')}-000000_abcdef1.tar.gz"
        return [name, name + ".sha256"]

    fresh = fake.add_release("backup-2026-11-30-000000", ago(3), assets=complete("backup-2026-11-30-000000"))
    old = [
        fake.add_release(f"backup-2026-0{m}-01-000000", ago(100 + m), assets=complete(f"backup-2026-0{m}-01-000000"))
        for m in range(1, 6)
    ]
    other = fake.add_release("v1.0", ago(400))
    result = prune(None, retention=Retention(local_days=30, remote_days=90, keep_min=3), store=_store(), now=now)
    gone = {i.name for i in result.removed}
    # fresh + the two newest old ones (101 and 102 days) are the newest 3 verified: kept despite their age.
    assert gone == {"backup-2026-03-01-000000", "backup-2026-04-01-000000", "backup-2026-05-01-000000"}
    assert set(fake.releases) == {fresh, old[0], old[1], other}
    assert "backup-2026-05-01-000000" not in fake.tags and "backup-2026-01-01-000000" in fake.tags
    deletes = [u for m, u, _ in fake.calls if m == "DELETE"]
    assert any(u.endswith("/git/refs/tags/backup-2026-05-01-000000") for u in deletes)


def test_prune_dry_run_deletes_nothing(fake: FakeGitHub) -> None:
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    for i in range(5):
        fake.add_release(f"backup-old-{i}", (now - timedelta(days=200 + i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    result = prune(None, retention=Retention(), store=_store(), dry_run=True, now=now)
    assert len(result.removed) == 5  # none is verified (no assets), so none is protected
    assert len(fake.releases) == 5 and not [c for c in fake.calls if c[0] == "DELETE"]


def test_primary_rate_limit_waits_until_the_reset(fake: FakeGitHub, archive) -> None:  # type: ignore[no-untyped-def]
    import time

    reset = int(time.time()) + 20
    fake.upload_failures.append(
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}, {"message": "API rate limit exceeded"})
    )
    waits: list[float] = []
    _store(waits).publish(archive.archive, archive.sha256, tag="backup-r", commit=None, body="", part_size=1 << 30)
    assert len(waits) == 1 and 15 <= waits[0] <= 22


def test_download_of_a_missing_tag_is_a_clear_error(fake: FakeGitHub, tmp_path: Path) -> None:
    from aikinklab_ops.errors import InputError

    with pytest.raises(InputError, match="no release tagged backup-nope") as err:
        _store().download("backup-nope", tmp_path)
    assert "backup list --remote" in (err.value.hint or "")
