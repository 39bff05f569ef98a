"""The backup and restore commands as an operator and a workflow use them."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import responses
from backup_fake_github import API, REPO, FakeGitHub
from backup_repos import SECRET, AppRepo, age_keygen, refs

from aikinklab_ops.backup import backup_status, create_backup
from aikinklab_ops.backup.archive import archive_name, sha256_file, sha256_line
from aikinklab_ops.cli import main

TOKEN = "ghs_cli_token_value_987654"


def run(args: list[str], cwd: Path, **env: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, env={"PATH": "/usr/bin:/bin", **env}, stdout=out, stderr=err, cwd=cwd)
    return code, out.getvalue(), err.getvalue()


def _outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT heredoc entries."""
    values: dict[str, str] = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        name, delim = lines[i].split("<<", 1)
        j = lines.index(delim, i + 1)
        values[name] = "\n".join(lines[i + 1 : j])
        i = j + 1
    return values


def test_create_full_reports_archive_and_checksum(app_repo: AppRepo, tmp_path: Path) -> None:
    gh_out, summary, report_file = tmp_path / "gh_output", tmp_path / "summary.md", tmp_path / "report.json"
    code, out, err = run(
        [
            "--format",
            "github",
            "--report-file",
            str(report_file),
            "backup",
            "create",
            "full",
            "--output",
            str(tmp_path / "b"),
        ],
        app_repo.path,
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(gh_out),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_TOKEN=TOKEN,
    )
    assert code == 0, err
    report = json.loads(report_file.read_text())
    assert report["kind"] == "backup" and report["ok"] is True
    archive = report["target"]
    check = next(c for c in report["checks"] if c["name"] == "archive")
    assert check["details"]["path"] == archive and check["details"]["sha256"] == sha256_file(Path(archive))
    assert {c["name"] for c in report["checks"]} >= {"contents", "checksums", "complete", "bundle", "publish"}
    assert "packing" in err  # progress on stderr
    outputs = _outputs(gh_out)
    assert outputs["archive"] == archive and outputs["sha256"] == check["details"]["sha256"]
    assert outputs["tag"] == "" and outputs["ok"] == "true"
    everything = out + err + summary.read_text() + gh_out.read_text() + report_file.read_text()
    assert SECRET not in everything and TOKEN not in everything.replace(f"::add-mask::{TOKEN}", "")


def test_repo_defaults_to_the_working_directory_and_output_to_config(app_repo: AppRepo) -> None:
    code, out, err = run(["backup", "create", "code"], app_repo.path)
    assert code == 0, err
    assert len(list((app_repo.path / "backups").glob("aikinklab_backup_code_*.tar.gz"))) == 1
    assert "PASS" in out and "bundle" in out


def test_shallow_clone_exits_2_with_the_fix(app_repo: AppRepo, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{app_repo.path}", str(shallow)], check=True)
    code, _, err = run(["backup", "create", "full"], shallow)
    assert code == 2
    assert "shallow" in err and "fetch-depth: 0" in err
    assert not (shallow / "backups").exists() or not list((shallow / "backups").iterdir())


def test_invalid_backup_config_names_the_field(app_repo: AppRepo) -> None:
    (app_repo.path / "ops.yml").write_text("backup:\n  compression_level: 12\n")
    code, _, err = run(["backup", "create", "config"], app_repo.path)
    assert code == 2 and "backup.compression_level" in err


def test_verify_exit_codes(app_repo: AppRepo, tmp_path: Path) -> None:
    archive = create_backup("full", repo=app_repo.path, output_dir=tmp_path / "b").archive
    code, out, _ = run(["--format", "json", "backup", "verify", str(archive)], tmp_path)
    assert code == 0 and json.loads(out)["kind"] == "backup-verify"
    broken = tmp_path / archive.name
    broken.write_bytes(archive.read_bytes()[:-200])
    code, out, _ = run(["backup", "verify", str(broken)], tmp_path)
    assert code == 1 and "truncated or corrupt" in out
    code, _, err = run(["backup", "verify", str(tmp_path / "nope.tar.gz")], tmp_path)
    assert code == 2 and "no such archive" in err


def test_restore_prints_rto_and_next_steps_and_refuses_to_overwrite(app_repo: AppRepo, tmp_path: Path) -> None:
    archive = create_backup("full", repo=app_repo.path, output_dir=tmp_path / "b").archive
    code, out, err = run(["restore", str(archive), "--into", "r"], tmp_path)
    assert code == 0, err
    assert "RTO of 60 min" in out and "within" in out
    assert "next steps:" in out and "npm ci" in out and "deploy" in out
    assert refs(tmp_path / "r" / "repository", "refs/heads") == refs(app_repo.path, "refs/heads")

    code, _, err = run(["restore", str(archive), "--into", "r"], tmp_path)
    assert code == 2 and "--force" in err
    code, out, _ = run(["--format", "json", "restore", str(archive), "--into", "r", "--force"], tmp_path)
    assert code == 0 and json.loads(out)["within_rto"] is True

    code, _, err = run(["restore", str(archive), "--tag", "backup-x"], tmp_path)
    assert code == 2 and "exactly one" in err


def _aged_copies(archive: Path, folder: Path, ages_days: list[int], now: datetime) -> list[str]:
    """Copies of a real archive named as if made ``ages_days`` ago, each with its .sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for days in ages_days:
        name = archive_name("full", now - timedelta(days=days), "abcdef1234", encrypted=False)
        shutil.copy(archive, folder / name)
        (folder / (name + ".sha256")).write_text(sha256_line(sha256_file(archive), name))
        names.append(name)
    return names


def test_prune_local_keeps_the_newest_three_verified(app_repo: AppRepo, tmp_path: Path) -> None:
    archive = create_backup("config", repo=app_repo.path, output_dir=tmp_path / "src").archive
    now = datetime.now(timezone.utc)
    names = _aged_copies(archive, tmp_path / "b", [40, 45, 50, 60, 70], now)
    unverified = tmp_path / "b" / archive_name("code", now - timedelta(days=31), "1234567", encrypted=False)
    unverified.write_bytes(b"no sidecar")

    code, out, _ = run(["backup", "prune", "--dry-run", "--output", "b"], tmp_path)
    assert code == 0 and "would remove 3" in out
    assert len(list((tmp_path / "b").iterdir())) == 11  # nothing removed

    code, out, _ = run(["--format", "json", "backup", "prune", "--output", "b"], tmp_path)
    removed = {r["name"] for r in json.loads(out)["removed"]}
    assert removed == {unverified.name, names[3], names[4]}
    left = sorted(p.name for p in (tmp_path / "b").iterdir() if p.suffix == ".gz")
    assert left == sorted(names[:3])  # 40-50 days old, yet the newest three verified: kept


def test_status_against_the_rpo(app_repo: AppRepo, tmp_path: Path) -> None:
    code, out, _ = run(["backup", "status", "--output", "b"], tmp_path)
    assert code == 1 and "no verified backup" in out

    archive = create_backup("code", repo=app_repo.path, output_dir=tmp_path / "b").archive
    code, out, _ = run(["--format", "json", "backup", "status", "--output", "b"], tmp_path)
    assert code == 0 and json.loads(out)["checks"][0]["details"]["newest"] == str(archive)

    later = datetime.now(timezone.utc) + timedelta(hours=25)
    report = backup_status(tmp_path / "b", rpo_hours=24, now=later)
    assert not report.ok and "RPO is 24 h" in report.checks[0].summary

    # A backup that rotted on disk does not count.
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert not backup_status(tmp_path / "b", rpo_hours=24).ok


def test_list_shows_local_backups(app_repo: AppRepo, tmp_path: Path) -> None:
    archive = create_backup("code", repo=app_repo.path, output_dir=tmp_path / "b").archive
    code, out, _ = run(["--format", "json", "backup", "list", "--output", "b"], tmp_path)
    rows = json.loads(out)["backups"]
    assert code == 0 and [r["name"] for r in rows] == [archive.name] and rows[0]["verified"] is True


def test_vercel_env_names_without_values(app_repo: AppRepo, tmp_path: Path, mocked_api: responses.RequestsMock) -> None:
    vercel_secret = "vercel-plaintext-value-31337"
    mocked_api.get(
        "https://api.vercel.com/v10/projects/prj_1/env",
        json={
            "envs": [
                {
                    "id": "e1",
                    "key": "STRIPE_SECRET_KEY",
                    "type": "encrypted",
                    "target": ["production"],
                    "value": vercel_secret,
                },
                {"id": "e2", "key": "NEXT_PUBLIC_SITE", "type": "plain", "target": "preview", "value": "aik"},
            ],
            "pagination": {"count": 2, "next": None, "prev": None},
        },
    )
    code, out, err = run(
        ["--format", "json", "backup", "create", "config", "--output", str(tmp_path / "b")],
        app_repo.path,
        VERCEL_TOKEN="vercel_tok_123456789",
        VERCEL_PROJECT_ID="prj_1",
        VERCEL_ORG_ID="team_1",
    )
    assert code == 0, err
    call = mocked_api.calls[0].request
    assert "decrypt" not in (call.url or "") and "teamId=team_1" in (call.url or "")
    assert call.headers["Authorization"] == "Bearer vercel_tok_123456789"
    restored = tmp_path / "r"
    assert run(["restore", json.loads(out)["target"], "--into", str(restored)], tmp_path)[0] == 0
    names = json.loads((restored / "config/.vercel/aikinklab-env-names.json").read_text())
    assert names["env"] == [
        {"key": "NEXT_PUBLIC_SITE", "target": ["preview"], "type": "plain"},
        {"key": "STRIPE_SECRET_KEY", "target": ["production"], "type": "encrypted"},
    ]
    assert vercel_secret not in json.dumps(names)
    assert "vercel_tok_123456789" not in out + err


def test_vercel_failure_is_a_warning_not_a_lost_backup(
    app_repo: AppRepo, tmp_path: Path, mocked_api: responses.RequestsMock
) -> None:
    mocked_api.get(
        "https://api.vercel.com/v10/projects/prj_1/env",
        status=403,
        json={"error": {"code": "forbidden", "message": "Not authorized"}},
    )
    code, out, err = run(
        ["--format", "json", "backup", "create", "config", "--output", str(tmp_path / "b")],
        app_repo.path,
        VERCEL_TOKEN="vercel_tok_123456789",
        VERCEL_PROJECT_ID="prj_1",
    )
    assert code == 0, err
    contents = json.loads(out)["checks"][0]
    assert contents["status"] == "warn" and "HTTP 403" in contents["summary"]
    assert "warning: Vercel environment variable names not captured" in err


def _publish_env(tmp_path: Path) -> dict[str, Any]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API}


def test_publish_then_restore_from_the_tag(
    app_repo: AppRepo, tmp_path: Path, mocked_api: responses.RequestsMock
) -> None:
    fake = FakeGitHub(mocked_api)
    (app_repo.path / "ops.yml").write_text("backup:\n  github:\n    seconds_between_writes: 0\n")
    code, out, err = run(
        ["--format", "json", "backup", "create", "full", "--publish"], app_repo.path, **_publish_env(tmp_path)
    )
    assert code == 0, err
    publish = next(c for c in json.loads(out)["checks"] if c["name"] == "publish")
    tag = publish["details"]["tag"]
    (release,) = fake.releases.values()
    assert tag.startswith("backup-") and release["tag_name"] == tag and release["draft"] is False
    assert TOKEN not in out + err and SECRET not in out + err

    shutil.rmtree(app_repo.path / "backups")
    code, out, _ = run(["--format", "json", "backup", "list", "--remote"], app_repo.path, **_publish_env(tmp_path))
    rows = json.loads(out)["backups"]
    assert code == 0 and [(r["where"], r["name"], r["verified"]) for r in rows] == [("github", tag, True)]
    code, out, _ = run(["--format", "json", "backup", "status", "--remote"], app_repo.path, **_publish_env(tmp_path))
    assert code == 0 and json.loads(out)["checks"][0]["details"]["where"] == "github"

    code, out, err = run(["restore", "--tag", tag, "--into", str(tmp_path / "r")], tmp_path, **_publish_env(tmp_path))
    assert code == 0, err
    assert "RTO" in out
    assert refs(tmp_path / "r" / "repository", "refs/tags") == refs(app_repo.path, "refs/tags")


def test_publish_without_credentials_fails_before_any_work(app_repo: AppRepo) -> None:
    code, _, err = run(["backup", "create", "full", "--publish"], app_repo.path)
    assert code == 2 and "GITHUB_TOKEN" in err
    assert not (app_repo.path / "backups").exists()


def test_installed_command_runs_a_backup(app_repo: AppRepo, tmp_path: Path) -> None:
    exe = shutil.which("aikinklab-ops")
    assert exe, "the package must be installed (pip install -e .)"
    proc = subprocess.run(
        [exe, "--format", "json", "backup", "create", "code", "--output", str(tmp_path / "b")],
        cwd=app_repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert Path(json.loads(proc.stdout)["target"]).is_file()


def test_encrypt_flag_and_identity_flag(app_repo: AppRepo, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    recipient = age_keygen(key)
    code, out, err = run(
        [
            "--format",
            "json",
            "backup",
            "create",
            "config",
            "--repo",
            str(app_repo.path),
            "--output",
            "b",
            "--encrypt-to",
            recipient,
        ],
        tmp_path,
    )
    assert code == 0, err
    archive = json.loads(out)["target"]
    assert archive.endswith(".tar.gz.age")
    code, _, err = run(["backup", "verify", archive], tmp_path)
    assert code == 2 and "--identity" in err
    code, out, _ = run(["--format", "json", "backup", "verify", archive, "--identity", str(key)], tmp_path)
    assert code == 0 and json.loads(out)["ok"] is True
    code, _, err = run(
        ["backup", "create", "config", "--repo", str(app_repo.path), "--encrypt-to", "age1typo"], tmp_path
    )
    assert code == 2 and "age1typo" in err
