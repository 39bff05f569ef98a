"""Small pure pieces the backup relies on: names, remote URLs, the Vercel request."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses
from backup_repos import AppRepo, git

from aikinklab_ops.backup import create_backup
from aikinklab_ops.backup.archive import archive_name, parse_name, safe_member_name
from aikinklab_ops.backup.gitrepo import clean_remote_url
from aikinklab_ops.backup.vercel_env import fetch_env_names
from aikinklab_ops.config.context import Credentials
from aikinklab_ops.errors import ApiError


def test_archive_names_round_trip() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    name = archive_name("full", when, "0123456789abcdef", encrypted=True)
    assert name == "aikinklab_backup_full_20260102-030405_0123456.tar.gz.age"
    parsed = parse_name(name)
    assert parsed is not None and parsed.created == when and parsed.encrypted and parsed.type == "full"
    assert parse_name("aikinklab_backup_full_20260102-030405_0123456.tar.gz.partial") is None
    assert parse_name(".aikinklab-backup-staging-x") is None


def test_unsafe_member_names() -> None:
    assert safe_member_name("config/ok.json") is None
    assert "absolute" in (safe_member_name("/etc/passwd") or "")
    assert "absolute" in (safe_member_name("C:/Windows") or "")
    assert ".." in (safe_member_name("a/../../b") or "")
    assert ".." in (safe_member_name("a\\..\\b") or "")


def test_credentials_never_leave_a_remote_url() -> None:
    assert clean_remote_url("https://x-access-token:ghs_abc123@github.com/o/r.git") == "https://github.com/o/r.git"
    assert clean_remote_url("git@github.com:o/r.git") == "git@github.com:o/r.git"
    assert clean_remote_url(None) is None


def test_manifest_remote_has_no_token(app_repo: AppRepo, tmp_path: Path) -> None:
    git(app_repo.path, "remote", "add", "origin", "https://x-access-token:ghs_SECRETTOKEN1@github.com/o/r.git")
    result = create_backup("code", repo=app_repo.path, output_dir=tmp_path / "out")
    assert result.manifest["repository"]["remote"] == "https://github.com/o/r.git"
    assert b"ghs_SECRETTOKEN1" not in gzip.decompress(result.archive.read_bytes())


def test_vercel_personal_account_sends_no_team_id(mocked_api: responses.RequestsMock) -> None:
    mocked_api.get("https://api.vercel.com/v10/projects/prj_2/env", json={"envs": [], "pagination": {"count": 0}})
    creds = Credentials(vercel_token="tok_1234567", vercel_project_id="prj_2", vercel_org_id="u_personal")
    assert fetch_env_names(creds) == []
    assert "teamId" not in (mocked_api.calls[0].request.url or "")
    assert fetch_env_names(Credentials()) is None  # no credentials: nothing asked


@pytest.mark.parametrize(
    "body", [["not", "an", "object"], {"error": "forbidden as plain text"}, {"error": {"code": 3}}]
)
def test_vercel_error_body_of_an_odd_shape_is_an_api_error(mocked_api: responses.RequestsMock, body: object) -> None:
    mocked_api.get("https://api.vercel.com/v10/projects/prj_2/env", json=body, status=403)
    creds = Credentials(vercel_token="tok_1234567", vercel_project_id="prj_2")
    with pytest.raises(ApiError) as info:
        fetch_env_names(creds)
    assert info.value.status == 403 and info.value.code is None
