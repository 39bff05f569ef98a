"""``aikinklab-ops incident ...`` as a user runs it: exit codes, output, and no secret anywhere."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from incident_fakes import API, REPO, SMTP_PASSWORD, TOKEN, FakeGitHub, SmtpServer
from pytest_httpserver import HTTPServer

from aikinklab_ops.cli import main

HOOK_PATH = "/hooks/T0001/B0002/sEcReTwEbHoOkToKeN"


def run(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


def ops_yml(tmp_path: Path, smtp: SmtpServer) -> None:
    (tmp_path / "ops.yml").write_text(
        f"""
alerts:
  channels:
    email:
      smtp_host: {smtp.host}
      smtp_port: {smtp.port}
      starttls: false
      username: ops
      password: ${{SMTP_PASSWORD}}
      sender: ops@aikinklab.com
      recipients: [oncall@aikinklab.com]
    sms:
      webhook_url: ${{SMS_WEBHOOK_URL}}
      recipients: ["+15550100"]
"""
    )


def everything_written(tmp_path: Path, *texts: str) -> str:
    files = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    # ::add-mask:: lines are how the runner learns to hide a value; everything else must not show it.
    lines = "\n".join([*texts, *files]).splitlines()
    return "\n".join(line for line in lines if not line.startswith("::add-mask::"))


def test_incident_cli_open_alerts_and_fails_when_a_required_channel_fails(
    tmp_path: Path, smtp_server: SmtpServer, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("gateway broke", status=500)
    ops_yml(tmp_path, smtp_server)
    env = {"SMTP_PASSWORD": SMTP_PASSWORD, "SMS_WEBHOOK_URL": httpserver.url_for(HOOK_PATH)}
    code, out, err = run(
        [
            "--format",
            "json",
            "--report-file",
            "out/incident.json",
            "incident",
            "open",
            "--key",
            "checkout",
            "--severity",
            "P1",
            "--title",
            "Checkout broken",
            "--impact",
            "nobody can pay",
            "--eta",
            "10:30 UTC",
        ],
        tmp_path,
        env,
    )
    assert code == 1, err
    data = json.loads(out)
    assert data["kind"] == "incident" and data["ok"] is False
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert status == {"local": "pass", "email": "pass", "sms": "fail", "chat": "skip", "dashboard": "skip"}
    assert data["incident"]["message"].startswith("🚨 INCIDENT ALERT - P1")
    assert len(smtp_server.box.messages) == 1  # the failed SMS did not stop the email
    assert len(httpserver.log) == 1  # and the SMS was not retried
    leaked = everything_written(tmp_path, out, err)
    assert SMTP_PASSWORD not in leaked
    assert "sEcReTwEbHoOkToKeN" not in leaked


def test_incident_cli_full_lifecycle_on_github(tmp_path: Path, fake_github: FakeGitHub) -> None:
    gh_out = tmp_path / "gh_output"
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": API,
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(gh_out),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    code, out, err = run(
        ["incident", "open", "--key", "k", "--severity", "P3", "--title", "Footer typo"], tmp_path, env
    )
    assert code == 0, err
    assert "issue-url<<" in gh_out.read_text()
    assert f"https://github.com/{REPO}/issues/1" in gh_out.read_text()
    assert "🚨 INCIDENT ALERT - P3" in summary.read_text()
    code, out, err = run(["incident", "update", "--key", "k", "--status", "Fixing"], tmp_path, env)
    assert code == 0, err
    code, out, err = run(
        [
            "incident",
            "resolve",
            "--key",
            "k",
            "--resolution",
            "fixed the typo",
            "--root-cause",
            "copy paste",
            "--prevention",
            "spell check in CI",
        ],
        tmp_path,
        env,
    )
    assert code == 0, err
    assert fake_github.issues[1]["state"] == "closed"
    assert len(fake_github.comments[1]) == 2
    leaked = everything_written(tmp_path, out, err) + json.dumps(fake_github.issues) + json.dumps(fake_github.comments)
    assert TOKEN not in leaked


def report_file(tmp_path: Path, checks: list[dict[str, Any]]) -> Path:
    path = tmp_path / "verify.json"
    path.write_text(
        json.dumps(
            {
                "kind": "verify",
                "ok": False,
                "target": "https://www.aikinklab.com",
                "started_at": "2026-12-03T09:00:00+00:00",
                "duration_s": 1.0,
                "checks": checks,
            }
        )
    )
    return path


def test_incident_cli_from_report_classifies_and_keys_by_target(tmp_path: Path) -> None:
    report_file(
        tmp_path,
        [
            {"name": "health", "status": "fail", "summary": "HTTP 503", "details": {}, "duration_s": 0.1},
            {"name": "pages", "status": "fail", "summary": "/: HTTP 503", "details": {}, "duration_s": 0.1},
        ],
    )
    code, out, err = run(["--format", "json", "incident", "open", "--from-report", "verify.json"], tmp_path)
    data = json.loads(out)
    assert data["incident"]["severity"] == "P0"
    assert data["incident"]["key"] == "verify-www.aikinklab.com"
    assert "site down: HTTP 503" in data["incident"]["subject"]
    assert (tmp_path / ".aikinklab-ops" / "incidents" / "verify-www.aikinklab.com.md").is_file()
    # P0 routes to email and SMS, neither configured: warnings, not a failure of the record
    assert code == 0, err


def test_incident_cli_from_a_clean_report_opens_nothing(tmp_path: Path) -> None:
    report_file(tmp_path, [{"name": "health", "status": "pass", "summary": "ok", "details": {}, "duration_s": 0}])
    code, out, _ = run(["incident", "open", "--from-report", "verify.json"], tmp_path)
    assert code == 0
    assert "no incident" in out
    assert not (tmp_path / ".aikinklab-ops").exists()


def test_incident_cli_bad_input_is_exit_2_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    code, _, err = run(["incident", "open", "--from-report", "broken.json"], tmp_path)
    assert code == 2 and "broken.json: not valid JSON" in err
    report_file(tmp_path, [{"name": "health", "status": "sideways", "summary": ""}])
    code, _, err = run(["incident", "open", "--from-report", "verify.json"], tmp_path)
    assert code == 2 and "checks[0].status" in err
    code, _, err = run(["incident", "open", "--key", "k"], tmp_path)
    assert code == 2 and "--severity, --title required" in err
    code, _, err = run(["incident", "open", "--key", "k", "--severity", "SEV1", "--title", "t"], tmp_path)
    assert code == 2 and "P0, P1, P2, P3" in err
    code, _, err = run(
        ["incident", "resolve", "--key", "nope", "--resolution", "r", "--root-cause", "c", "--prevention", "p"],
        tmp_path,
    )
    assert code == 2 and "no open incident with key 'nope'" in err
