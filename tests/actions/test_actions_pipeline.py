"""The root action -- the whole release in one step -- against the sandbox: a good release goes
live and verified; a broken one is rolled back to the previous deployment and opens the incident."""

from __future__ import annotations

from pathlib import Path

import pytest
from actions_runner import REPO, SITE, ActionRunner, assert_outputs_written, declared_outputs, read_report

from aikinklab_ops.sandbox.server import Sandbox

SELFTEST_CONFIG = REPO / "tests" / "actions" / "data" / "selftest-ops.yml"
# Written on every run that deploys; the others only after a failed verification.
ALWAYS = {"ok", "environment", "deployment-id", "url", "inspector-url", "report"}
AFTER_A_FAILURE = {"rolled-back-to", "severity", "incident-key", "incident-url"}


@pytest.fixture
def quick_config(tmp_path: Path) -> Path:
    """The self-test gates, and a health check that gives up after a second instead of sixty."""
    path = tmp_path / "ops.yml"
    junit = REPO / "aikinklab_ops" / "examples" / "artifacts" / "junit.xml"
    path.write_text(
        "gates:\n  checks: [tests]\n  tests:\n"
        f"    junit: [{junit}]\n    github:\n      enabled: false\n"
        "verify:\n  health:\n    deadline_s: 1\n",
        encoding="utf-8",
    )
    return path


def test_declared_outputs_are_the_pipelines() -> None:
    assert declared_outputs(".") == ALWAYS | AFTER_A_FAILURE


def test_a_good_release_goes_live_and_verified(action_runner: ActionRunner, sandbox: Sandbox) -> None:
    inputs = {"environment": "production", "path": str(SITE), "config": str(SELFTEST_CONFIG)}
    run = action_runner.run(".", inputs, env=sandbox.env())
    assert run.ok, run.log
    assert_outputs_written(run, ".", ALWAYS)
    assert (run.outputs["ok"], run.outputs["environment"]) == ("true", "production")
    project = sandbox.project()
    assert project is not None and project.production_id == run.outputs["deployment-id"]
    assert [c["name"] for c in read_report(run)["checks"]] == ["gate", "deploy", "verify"]
    assert "pipeline" in run.summary


def test_a_broken_release_is_rolled_back_and_opens_the_incident_the_next_release_resolves(
    action_runner: ActionRunner, sandbox: Sandbox, broken_site_dir: Path, quick_config: Path
) -> None:
    good = action_runner.run(
        ".", {"environment": "production", "path": str(SITE), "config": str(quick_config)}, env=sandbox.env()
    )
    assert good.ok, good.log
    bad = action_runner.run(
        ".", {"environment": "production", "path": str(broken_site_dir), "config": str(quick_config)}, env=sandbox.env()
    )
    assert bad.step("run").returncode == 1
    assert_outputs_written(bad, ".")
    assert bad.outputs["ok"] == "false"
    assert bad.outputs["rolled-back-to"] == good.outputs["deployment-id"]
    assert bad.outputs["severity"] == "P1", "the rollback held"
    project = sandbox.project()
    assert project is not None and project.production_id == good.outputs["deployment-id"]
    incident = Path(bad.outputs["incident-url"])  # a file: the test gives no GitHub token
    assert incident.is_file() and bad.outputs["incident-key"] in incident.name

    fixed = action_runner.run(
        ".", {"environment": "production", "path": str(SITE), "config": str(quick_config)}, env=sandbox.env()
    )
    assert fixed.ok, fixed.log
    checks = {c["name"]: c for c in read_report(fixed)["checks"]}
    assert checks["incident"]["status"] == "pass", "the next good release resolves the incident"


def test_a_dry_run_gates_and_deploys_nothing(action_runner: ActionRunner, sandbox: Sandbox) -> None:
    inputs = {"environment": "production", "path": str(SITE), "config": str(SELFTEST_CONFIG), "dry-run": "true"}
    run = action_runner.run(".", inputs, env=sandbox.env())
    assert run.ok, run.log
    assert run.outputs["ok"] == "true"
    assert run.outputs["deployment-id"] == ""
    project = sandbox.project()
    assert project is not None and project.production_id is None
