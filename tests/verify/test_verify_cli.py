"""``aikinklab-ops verify`` and ``demo`` as a user runs them: exit codes, formats, outputs, secrets."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from verify_helpers import closed_port, write

from aikinklab_ops.cli import main

VERCEL_TOKEN = "vt_0123456789abcdefSECRET"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
FAST_CONFIG = """\
verify:
  timeout_s: 2
  health: {deadline_s: 0.2, retry_interval_s: 0.05}
  pages:
    - {path: /, name: home, contains: AIKinkLab}
    - {path: /pricing, name: pricing}
  latency: {samples: 4, concurrency: 2}
"""
CHECKS = "health,pages,dns,latency,error-rate"


def cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, env=env or {}, stdout=out, stderr=err, cwd=cwd)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def app(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok", "checks": {"db": "ok"}})
    httpserver.expect_request("/").respond_with_data("<h1>AIKinkLab</h1>", content_type="text/html")
    httpserver.expect_request("/pricing").respond_with_data("plans", content_type="text/html")
    return httpserver.url_for("/").rstrip("/")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "ops.yml", FAST_CONFIG)
    return tmp_path


def test_exit_0_when_every_check_passes(app: str, project: Path) -> None:
    code, out, err = cli(["verify", "--url", app, "--only", CHECKS], project)
    assert code == 0, out + err
    assert "OK: 5 pass" in out
    assert "verify " in err  # progress goes to stderr


def test_exit_1_when_a_check_fails_and_json_says_why(httpserver: HTTPServer, project: Path) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "down", "checks": {"db": "down"}})
    httpserver.expect_request("/").respond_with_data("<h1>AIKinkLab</h1>")
    httpserver.expect_request("/pricing").respond_with_data("oops", status=500)
    url = httpserver.url_for("/").rstrip("/")
    code, out, _ = cli(["--format", "json", "verify", "--url", url, "--only", "health,pages"], project)
    assert code == 1
    doc = json.loads(out)
    assert doc["kind"] == "verify" and doc["ok"] is False and doc["target"] == url
    health, pages = doc["checks"]
    assert (health["name"], health["status"]) == ("health", "fail")
    assert health["details"]["failing_checks"] == {"db": "down"}
    assert pages["details"]["failing"] == ["pricing"]


def test_refused_target_is_exit_1_with_a_reason(project: Path) -> None:
    code, out, _ = cli(["verify", "--url", f"http://127.0.0.1:{closed_port()}", "--only", "health,pages"], project)
    assert code == 1
    assert "refused" in out


def test_the_environment_url_is_used_without_url(app: str, tmp_path: Path) -> None:
    write(tmp_path / "ops.yml", FAST_CONFIG + f"environments:\n  staging: {{url: '{app}'}}\n")
    code, out, _ = cli(["verify", "--env", "staging", "--only", "health"], tmp_path)
    assert code == 0
    assert app in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["verify", "--url", "http://127.0.0.1:1", "--only", "health,latncy"], "unknown check 'latncy'"),
        (["verify", "--env", "preview"], "environments.preview.url is not set"),
        (["verify", "--url", "not-a-url"], "is not an http:// or https:// URL"),
        (
            ["verify", "--url", "https://127.0.0.1:1", "--ca-bundle", "missing.pem"],
            "missing.pem: no such file (--ca-bundle)",
        ),
        (["verify", "--url", "https://127.0.0.1:1", "--vitals", "lhr.json"], "lhr.json: no such file (--vitals)"),
    ],
)
def test_exit_2_for_bad_usage(args: list[str], words: str, project: Path) -> None:
    code, out, err = cli(args, project)
    assert code == 2
    assert words in err
    assert out == ""


def test_exit_2_for_bad_config_naming_file_field_and_fix(tmp_path: Path) -> None:
    write(tmp_path / "ops.yml", "verify:\n  tls:\n    min_days: fourteen\n")
    code, _, err = cli(["verify", "--url", "http://127.0.0.1:1"], tmp_path)
    assert code == 2
    assert "ops.yml: verify.tls.min_days: expected an integer" in err
    assert "fix:" in err


def test_exit_2_for_an_unknown_check_in_the_config(tmp_path: Path) -> None:
    write(tmp_path / "ops.yml", "verify:\n  checks: [health, uptime]\n")
    code, _, err = cli(["verify", "--url", "http://127.0.0.1:1"], tmp_path)
    assert code == 2
    assert "verify.checks[1]" in err


def test_secrets_never_reach_any_output_nor_the_target(app: str, project: Path, httpserver: HTTPServer) -> None:
    # The token rides in the target URL, as a protection-bypass value would: only redaction keeps it out.
    url = f"{app}/?x-vercel-protection-bypass={GITHUB_TOKEN}"
    for fmt in ("text", "json", "github"):
        gh_out, summary = project / f"out-{fmt}.txt", project / f"summary-{fmt}.md"
        env = {
            "VERCEL_TOKEN": VERCEL_TOKEN,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(gh_out),
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        report = project / f"report-{fmt}.json"
        args = ["--format", fmt, "--report-file", str(report), "verify", "--url", url, "--only", "health,pages,tls"]
        code, out, err = cli(args, project, env)
        assert code == 0, out + err
        written = [out, err, report.read_text(encoding="utf-8")]
        assert "x-vercel-protection-bypass=***" in written[2]  # the value was there, and masked
        if fmt == "github":
            written += [gh_out.read_text(encoding="utf-8"), summary.read_text(encoding="utf-8")]
            assert "::add-mask::" in out
        for text in written:
            assert VERCEL_TOKEN not in text.replace(f"::add-mask::{VERCEL_TOKEN}", "")
            assert GITHUB_TOKEN not in text.replace(f"::add-mask::{GITHUB_TOKEN}", "")
    for request, _ in httpserver.log:
        sent = str(request.headers)
        assert VERCEL_TOKEN not in sent and "Authorization" not in sent


def test_github_format_writes_grade_and_url_outputs(project: Path) -> None:
    gh_out = project / "gh-output.txt"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(gh_out)}
    code, out, err = cli(["demo", "--verify-only", "--samples", "4"], project, env)
    assert code == 0, out + err
    outputs = gh_out.read_text(encoding="utf-8")
    for name in ("ok", "grade", "url"):
        assert f"{name}<<ghadelimiter_" in outputs
    lines = outputs.splitlines()
    assert lines[lines.index(next(x for x in lines if x.startswith("grade<<"))) + 1] in ("A", "A+")


def test_demo_passes_every_check_with_no_account(tmp_path: Path) -> None:
    code, out, err = cli(["--format", "json", "demo", "--verify-only", "--samples", "4"], tmp_path)
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["ok"] is True
    assert {c["name"]: c["status"] for c in doc["checks"]} == dict.fromkeys(
        ["health", "pages", "security-headers", "tls", "dns", "latency", "error-rate"], "pass"
    )
    by_name = {c["name"]: c for c in doc["checks"]}
    assert by_name["tls"]["details"]["chain_verified"] is True
    assert by_name["dns"]["details"]["addresses"] == ["127.0.0.1"]
    assert by_name["security-headers"]["details"]["grade"] in ("A", "A+")
    assert "throwaway local CA" in err


def test_installed_command_runs_as_a_subprocess(app: str, project: Path) -> None:
    exe = shutil.which("aikinklab-ops")
    assert exe, "the package is installed editable, so the console script must exist"
    proc = subprocess.run(
        [exe, "--format", "json", "verify", "--url", app, "--only", "health,pages"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(Path(exe).parent), "HOME": str(project)},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
