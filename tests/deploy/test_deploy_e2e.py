"""End to end: the installed ``aikinklab-ops`` as a subprocess against the local Vercel sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from vercel_contract import assert_traffic_fits

from aikinklab_ops.sandbox import Sandbox

TOKEN = "sandbox-secret-token-7f3a9c2e"
OPS_YML = """
deploy:
  poll_intervals_s: [0.02]
  timeout_s: 30
vercel:
  retries: 6
  max_retry_after_s: 2
  backoff_s: [0.05]
"""


def _exe() -> list[str]:
    found = shutil.which("aikinklab-ops")
    return [found] if found else [sys.executable, "-m", "aikinklab_ops"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox-state", build_delay=0.05, queue_delay=0.02, token=TOKEN) as sb:
        yield sb


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    app = root / "web"
    (app / "public").mkdir(parents=True)
    (app / "public" / "index.html").write_text("<h1>AIKinkLab</h1>")
    (app / "index.html").write_text("<h1>AIKinkLab</h1>")
    (app / "package.json").write_text('{"name":"web"}')
    (app / ".env.production").write_text("API_KEY=never-upload-me")
    (root / "ops.yml").write_text(OPS_YML)
    return root


def ops(sb: Sandbox, work: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VERCEL_"))}
    environ.update(sb.env())
    environ.update(env or {})
    proc = subprocess.run(
        [*_exe(), "--format", "json", *args], cwd=work, env=environ, capture_output=True, text=True, timeout=120
    )
    assert TOKEN not in proc.stdout + proc.stderr, "the Vercel token leaked into the output"
    data = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, data, proc.stderr


def deploy(sb: Sandbox, work: Path, *args: str) -> tuple[int, Any, str]:
    return ops(sb, work, "deploy", "--path", "web", *args)


def details(report: Any) -> dict[str, Any]:
    return dict(report["checks"][0]["details"])


def test_deploy_alias_and_an_unchanged_second_deploy(sandbox: Sandbox, work: Path) -> None:
    code, report, err = deploy(sandbox, work, "--env", "staging")
    assert code == 0, err
    first = details(report)
    assert first["files_total"] == 3 and first["files_uploaded"] == 2, "identical content is uploaded once"
    assert first["aliases"] == ["staging.aikinklab.com"]
    assert sandbox.alias_target("staging.aikinklab.com") == first["deployment_id"]
    assert first["url"].startswith("http://127.0.0.1"), "the result carries the URL that really serves it"
    page = requests.get(first["url"] + "/index.html", timeout=5)
    assert page.status_code == 200 and "AIKinkLab" in page.text
    dep = sandbox.deployment(first["deployment_id"])
    assert dep is not None and ".env.production" not in dep.files
    assert "uploading" in err and "READY" in err, "progress and state changes are shown on stderr"

    code, report, err = deploy(sandbox, work, "--env", "staging")
    second = details(report)
    assert code == 0, err
    assert (second["files_uploaded"], second["bytes_uploaded"]) == (0, 0)
    assert sandbox.alias_target("staging.aikinklab.com") == second["deployment_id"] != first["deployment_id"]
    assert_traffic_fits(sandbox.traffic, allow_refused_requests=True)


def _production(sandbox: Sandbox, work: Path) -> str:
    code, report, err = deploy(sandbox, work, "--env", "production")
    assert code == 0, err
    return str(details(report)["deployment_id"])


def _current(sandbox: Sandbox) -> str | None:
    project = sandbox.project()
    assert project is not None
    return project.production_id


def test_production_promote_and_rollback(sandbox: Sandbox, work: Path) -> None:
    a = _production(sandbox, work)
    (work / "web" / "index.html").write_text("<h1>v2</h1>")
    b = _production(sandbox, work)
    assert _current(sandbox) == b

    code, report, err = ops(sandbox, work, "rollback", "--dry-run")
    assert code == 0, err
    assert details(report)["to_deployment"] == a and _current(sandbox) == b, "a dry run changes nothing"

    code, report, err = ops(sandbox, work, "rollback", "--reason", "broken checkout")
    assert code == 0, err
    assert (details(report)["from_deployment"], details(report)["to_deployment"]) == (b, a)
    assert _current(sandbox) == a

    code, report, err = deploy(sandbox, work, "--env", "production")
    assert code == 1 and details(report)["error_code"] == "NOT_PROMOTED", "a rollback pins production"
    assert _current(sandbox) == a and f"promote {details(report)['deployment_id']}" in details(report)["error_message"]

    code, report, err = ops(sandbox, work, "promote", b)
    assert code == 0, err
    assert details(report)["outcome"] == "promoted" and _current(sandbox) == b

    code, report, err = ops(sandbox, work, "promote", b)
    assert code == 0 and details(report)["outcome"] == "already-current"

    sandbox.faults.promote_queued(delay=0.05)
    code, report, err = ops(sandbox, work, "promote", a)
    assert code == 0, err
    assert details(report)["outcome"] == "promoted" and _current(sandbox) == a
    assert "queued" in err

    code, report, err = ops(sandbox, work, "deployments", "list", "--env", "production")
    assert code == 0 and report["current_production"] == a
    ids = {d["id"] for d in report["deployments"]}
    assert {a, b} <= ids and len(ids) == 3, "a, b and the build that was not promoted"
    assert_traffic_fits(sandbox.traffic, allow_refused_requests=True)


def test_promote_of_a_preview_needs_rebuild(sandbox: Sandbox, work: Path) -> None:
    _production(sandbox, work)
    code, report, _ = deploy(sandbox, work)  # no event, no --env: a preview
    assert code == 0 and report["target"] == "preview"
    preview = details(report)["deployment_id"]
    code, _, err = ops(sandbox, work, "promote", preview)
    assert code == 2 and "--rebuild" in err
    code, report, err = ops(sandbox, work, "promote", preview, "--rebuild")
    assert code == 0, err
    new = details(report)["new_deployment_id"]
    assert details(report)["outcome"] == "rebuilt" and _current(sandbox) == new


def test_blocked_build_fails_clearly(sandbox: Sandbox, work: Path) -> None:
    sandbox.faults.build_blocked()
    code, report, _err = deploy(sandbox, work, "--env", "staging")
    assert code == 1
    d = details(report)
    assert d["state"] == "BLOCKED" and "blocked" in (d["error_message"] or "").lower()
    assert sandbox.alias_target("staging.aikinklab.com") is None, "no alias for a build that never ran"
    assert d["inspector_url"]


def test_build_error_shows_the_log(sandbox: Sandbox, work: Path) -> None:
    sandbox.faults.build_error()
    code, report, err = deploy(sandbox, work)
    assert code == 1
    assert details(report)["error_code"] == "BUILD_FAILED" and "build log" in err


def test_timeout_cancels_the_stuck_build(sandbox: Sandbox, work: Path) -> None:
    sandbox.faults.build_stuck()
    code, report, _err = deploy(sandbox, work, "--env", "production", "--timeout", "0.5")
    assert code == 1
    d = details(report)
    assert d["timed_out"] and d["canceled"] and d["error_code"] == "TIMEOUT"
    dep = sandbox.deployment(d["deployment_id"])
    assert dep is not None and dep.state == "CANCELED", "nothing left building that could go live later"
    assert _current(sandbox) is None


def test_a_429_storm_is_ridden_out(sandbox: Sandbox, work: Path) -> None:
    # Whole seconds: Retry-After is delay-seconds (RFC 9110); urllib3 refuses fractions.
    sandbox.faults.rate_limit(count=4, retry_after=1)
    sandbox.faults.server_error(status=502, count=2, method="GET", path=r"^/v13/deployments/")
    code, _report, err = deploy(sandbox, work, "--env", "staging")
    assert code == 0, err
    assert sum(1 for e in sandbox.traffic if e.status == 429) == 4
    assert sum(1 for e in sandbox.traffic if e.status == 502) == 2, "idempotent polls are retried on 5xx"
    assert (
        len([e for e in sandbox.traffic if e.method == "POST" and e.path == "/v13/deployments" and e.status == 200])
        == 1
    )


def test_a_dropped_upload_and_a_lost_create_make_one_deployment(sandbox: Sandbox, work: Path) -> None:
    sandbox.faults.drop_upload(after_bytes=3)
    sandbox.faults.server_error(status=503, method="POST", path=r"^/v13/deployments$")
    code, report, err = deploy(sandbox, work, "--env", "staging")
    assert code == 0, err
    created = [e for e in sandbox.traffic if e.method == "POST" and e.path == "/v13/deployments" and e.status == 200]
    assert len(created) == 1
    assert {f["kind"] for f in sandbox.faults.history} == {"drop_upload", "server_error"}, "both faults fired"
    assert len(sandbox.app.state()["deployments"]) == 1
    assert sandbox.alias_target("staging.aikinklab.com") == details(report)["deployment_id"]


def test_no_project_id_is_refused_before_anything(sandbox: Sandbox, work: Path) -> None:
    code, _, err = ops(sandbox, work, "deploy", "--path", "web", env={"VERCEL_PROJECT_ID": ""})
    assert code == 2 and "VERCEL_PROJECT_ID" in err
    assert sandbox.traffic == []
