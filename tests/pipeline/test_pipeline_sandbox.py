"""The pipeline for real: the example site deployed to the local sandbox, a broken release rolled back."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aikinklab_ops.cli import main
from aikinklab_ops.gates.examples import artifacts_dir
from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.site.example import example_site

TOKEN = "sandbox-token-for-pipeline-0042"
OPS_YML = """
deploy:
  poll_intervals_s: [0.02]
  timeout_s: 30
verify:
  health: {deadline_s: 0.3, retry_interval_s: 0.05}
  latency: {samples: 4, concurrency: 2}
  pages:
    - {path: /, contains: AIKinkLab}
    - {path: /pricing}
incident:
  local_dir: incidents
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "state", build_delay=0.02, queue_delay=0.01, token=TOKEN) as sb:
        yield sb


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    with example_site() as site:
        shutil.copytree(site, root / "site")
    (root / "ops.yml").write_text(OPS_YML)
    return root


def pipeline(sb: Sandbox, work: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    a = artifacts_dir()
    gate_inputs = [
        "--junit", str(a / "junit.xml"), "--audit-report", str(a / "npm-audit.json"),
        "--lighthouse", str(a / "lighthouse"), "--flags", str(a / "feature-flags.yml"),
        "--monitoring", str(a / "monitoring.yml"),
    ]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    env = {**sb.env(), "SMTP_USERNAME": "ops", "SMTP_PASSWORD": "smtp-pass-123456", "SMS_WEBHOOK_URL": "http://x"}
    code = main(
        ["--format", "json", "pipeline", "--path", "site", *gate_inputs, *args], env=env, stdout=out, stderr=err,
        cwd=work,
    )  # fmt: skip
    assert TOKEN not in out.getvalue() + err.getvalue()
    return code, json.loads(out.getvalue()), err.getvalue()


def steps(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["status"]) for c in report["checks"]]


def break_health(work: Path) -> None:
    (work / "site" / "api" / "health.json").write_text('{"status": "down", "checks": {"db": "down"}}')


def test_good_release_then_a_broken_one_is_rolled_back_with_a_p1_incident(sandbox: Sandbox, work: Path) -> None:
    code, first, err = pipeline(sandbox, work, "--env", "production")
    assert code == 0, err
    assert steps(first) == [("gate", "pass"), ("deploy", "pass"), ("verify", "pass")]
    good = first["checks"][1]["details"]["deployment_id"]
    served = first["checks"][2]["details"]["target"]
    assert served == sandbox.alias_url("www.aikinklab.com"), "verification checks what the production domain serves"

    break_health(work)
    code, second, err = pipeline(sandbox, work, "--env", "production")
    assert code == 1, err
    assert steps(second) == [
        ("gate", "pass"), ("deploy", "pass"), ("verify", "fail"),
        ("rollback", "pass"), ("verify-after-rollback", "pass"), ("incident", "pass"),
    ]  # fmt: skip
    bad = second["checks"][1]["details"]["deployment_id"]
    assert second["checks"][3]["details"]["to_deployment"] == good
    assert sandbox.alias_target("www.aikinklab.com") == good, "production serves the good release again"
    incidents = list((work / "incidents").glob("*.md"))
    assert len(incidents) == 1
    text = incidents[0].read_text()
    assert "P1" in text and bad in text and "smtp-pass-123456" not in text


def test_broken_staging_release_leaves_production_alone(sandbox: Sandbox, work: Path) -> None:
    assert pipeline(sandbox, work, "--env", "production")[0] == 0
    production = sandbox.alias_target("www.aikinklab.com")
    break_health(work)
    code, report, _ = pipeline(sandbox, work, "--env", "staging")
    assert code == 1
    assert steps(report)[-1] == ("rollback", "skip")
    assert sandbox.alias_target("www.aikinklab.com") == production
    assert not (work / "incidents").exists()


def test_dry_run_deploys_nothing(sandbox: Sandbox, work: Path) -> None:
    code, report, _ = pipeline(sandbox, work, "--env", "production", "--dry-run")
    assert code == 0
    assert steps(report) == [("gate", "pass"), ("deploy", "skip")]
    assert "would deploy" in report["checks"][1]["summary"]
    assert sandbox.app.state()["deployments"] == {}


def test_failed_gate_blocks_the_deploy(sandbox: Sandbox, work: Path, tmp_path: Path) -> None:
    failing = tmp_path / "junit.xml"
    failing.write_text(
        '<testsuites><testsuite name="s" tests="1" failures="1">'
        '<testcase name="t"><failure message="boom"/></testcase></testsuite></testsuites>'
    )
    code, report, _ = pipeline(sandbox, work, "--env", "production", "--junit", str(failing))
    assert code == 1
    assert steps(report) == [("gate", "fail"), ("deploy", "skip")]


def cli(sb: Sandbox, work: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--format", "json", *argv], env=sb.env(), stdout=out, stderr=err, cwd=work)
    return code, json.loads(out.getvalue())


def fix_health(work: Path) -> None:
    (work / "site" / "api" / "health.json").write_text('{"status": "ok"}')


def test_rollback_returns_to_what_served_before_never_to_an_earlier_broken_release(
    sandbox: Sandbox, work: Path
) -> None:
    def release() -> tuple[int, dict[str, Any]]:
        code, report, _ = pipeline(sandbox, work, "--env", "production")
        return code, report

    assert release()[0] == 0
    a = sandbox.alias_target("www.aikinklab.com")
    (work / "site" / "about.html").write_text("<h1>About AIKinkLab, v2</h1>")
    assert release()[0] == 0
    break_health(work)
    code, broken_c = release()
    assert code == 1
    c = broken_c["checks"][1]["details"]["deployment_id"]
    assert cli(sandbox, work, "promote", a)[0] == 0  # an operator goes back to the older good release
    code, broken_d = release()
    assert code == 1
    rollback = next(x for x in broken_d["checks"] if x["name"] == "rollback")
    assert rollback["details"]["to_deployment"] == a, "back to what served production before, not to C"
    assert rollback["details"]["to_deployment"] != c
    assert sandbox.alias_target("www.aikinklab.com") == a

    # Production is pinned by the rollback now; the next good release is still released and verified,
    # and it resolves the open deploy incident.
    fix_health(work)
    code, fixed = release()
    assert code == 0, fixed
    assert fixed["checks"][1]["details"].get("promoted") is True
    assert sandbox.alias_target("www.aikinklab.com") == fixed["checks"][1]["details"]["deployment_id"]
    assert fixed["checks"][-1]["name"] == "incident" and fixed["checks"][-1]["summary"].startswith("resolved")


def test_a_broken_first_release_has_nothing_to_roll_back_to_and_is_p0(sandbox: Sandbox, work: Path) -> None:
    break_health(work)
    code, report, _ = pipeline(sandbox, work, "--env", "production")
    assert code == 1
    assert report["checks"][3]["name"] == "rollback" and report["checks"][3]["status"] == "fail"
    assert "nothing served production before" in report["checks"][3]["summary"]
    assert (work / "incidents" / "deploy-production.md").read_text().count("P0") >= 1


def test_bad_input_is_exit_2_before_any_gate_runs(sandbox: Sandbox, work: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = {k: v for k, v in sandbox.env().items() if k != "VERCEL_TOKEN"}
    code = main(["--format", "json", "pipeline", "--env", "production", "--path", "site", "--dry-run"],
                env=env, stdout=out, stderr=err, cwd=work)  # fmt: skip
    assert code == 2
    assert "VERCEL_TOKEN" in json.loads(out.getvalue())["error"]["message"]
    code = main(["pipeline", "--path", "nowhere", "--dry-run"], env=sandbox.env(), stdout=out, stderr=err, cwd=work)
    assert code == 2
