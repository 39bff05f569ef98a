"""``aikinklab-ops monitor`` end to end in-process, against a site on 127.0.0.1."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from aikinklab_ops.cli import main


def run(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


def site(httpserver: HTTPServer, health_status: int = 200) -> None:
    body = {"status": "ok" if health_status == 200 else "down"}
    httpserver.expect_request("/api/health").respond_with_json(body, status=health_status)
    httpserver.expect_request("/").respond_with_data("home")


def test_monitor_cli_healthy_single_round_exits_0(httpserver: HTTPServer, tmp_path: Path) -> None:
    site(httpserver)
    code, out, err = run(
        [
            "--format",
            "json",
            "monitor",
            "--url",
            httpserver.url_for("/"),
            "--duration",
            "0",
            "--no-backup",
            "--history",
            "h.jsonl",
        ],
        tmp_path,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "monitor" and data["ok"] is True
    assert [c["name"] for c in data["checks"]] == ["availability", "uptime", "latency-p95", "error-rate", "backup-rpo"]
    assert (tmp_path / "h.jsonl").read_text().count("\n") == 2


def test_monitor_cli_down_site_exits_1_and_records_the_incident(httpserver: HTTPServer, tmp_path: Path) -> None:
    site(httpserver, health_status=503)
    (tmp_path / "ops.yml").write_text(f"monitor:\n  url: {httpserver.url_for('/')}\n")
    code, out, err = run(["monitor", "--duration", "0", "--no-backup"], tmp_path)
    assert code == 1, err
    assert "FAIL  availability" in out
    files = list((tmp_path / ".aikinklab-ops" / "incidents").glob("monitor-*.md"))
    assert [f.name for f in files] == ["monitor-localhost.md"]


def test_monitor_cli_checks_the_backup_rpo_through_backup_status(httpserver: HTTPServer, tmp_path: Path) -> None:
    site(httpserver)
    code, out, _ = run(
        ["--format", "json", "monitor", "--url", httpserver.url_for("/"), "--duration", "0", "--no-incident"], tmp_path
    )
    data = json.loads(out)
    backup = next(c for c in data["checks"] if c["name"] == "backup-rpo")
    assert backup["status"] == "fail" and "no verified backup" in backup["summary"]
    assert code == 1
    assert not (tmp_path / ".aikinklab-ops" / "incidents").exists()


def test_monitor_cli_bad_flags_are_exit_2(tmp_path: Path) -> None:
    code, _, err = run(["monitor", "--duration", "five minutes"], tmp_path)
    assert code == 2 and "--duration" in err and "5m" in err
    code, _, err = run(["monitor", "--url", "ftp://x", "--duration", "0"], tmp_path)
    assert code == 2 and "not an http(s) URL" in err


def test_monitor_cli_a_run_without_the_backup_check_leaves_a_backup_incident_open(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site(httpserver)
    url = httpserver.url_for("/")
    code, _, _ = run(["monitor", "--url", url, "--duration", "0"], tmp_path)
    assert code == 1  # no backup at all: the RPO is breached and an incident opens
    incident = next((tmp_path / ".aikinklab-ops" / "incidents").glob("monitor-*.md"))
    assert "backup" in incident.read_text().lower()
    code, out, _ = run(["--format", "json", "monitor", "--url", url, "--duration", "0", "--no-backup"], tmp_path)
    assert code == 0
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["incident"]["status"] == "skip" and "stays open" in checks["incident"]["summary"]
    assert "INCIDENT RESOLVED" not in incident.read_text()


def test_monitor_cli_a_token_in_the_url_never_reaches_the_output(httpserver: HTTPServer, tmp_path: Path) -> None:
    site(httpserver, health_status=503)
    url = httpserver.url_for("/") + "?x-vercel-protection-bypass=bypass-secret-0042"
    code, out, err = run(["--format", "json", "monitor", "--url", url, "--duration", "0", "--no-backup"], tmp_path)
    assert code == 1
    assert "bypass-secret-0042" not in out + err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "bypass-secret-0042" not in path.read_text(errors="replace"), path
