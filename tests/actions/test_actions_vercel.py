"""The gate, deploy, promote and rollback actions run end to end: the action's own steps, the real
CLI, and a local Vercel (the sandbox) serving what was deployed on 127.0.0.1."""

from __future__ import annotations

from actions_runner import REPO, SITE, ActionRun, ActionRunner, assert_outputs_written, read_report

from aikinklab_ops.sandbox.server import Sandbox

PASSING_JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0" errors="0">
  <testsuite name="app" tests="2" failures="0" errors="0" skipped="0">
    <testcase classname="home" name="renders" time="0.01"/>
    <testcase classname="checkout" name="charges once" time="0.02"/>
  </testsuite>
</testsuites>
"""
FAILING_JUNIT = PASSING_JUNIT.replace('failures="0" errors="0" skipped', 'failures="1" errors="0" skipped').replace(
    'name="charges once" time="0.02"/>', 'name="charges once" time="0.02"><failure message="charged twice"/></testcase>'
)


def production(sandbox: Sandbox) -> str | None:
    project = sandbox.project()
    assert project is not None
    return project.production_id


def test_gate_passes_on_green_tests_and_exposes_ok_and_the_report(action_runner: ActionRunner) -> None:
    (action_runner.workspace / "reports").mkdir()
    (action_runner.workspace / "reports" / "junit.xml").write_text(PASSING_JUNIT)
    run = action_runner.run("actions/gate", {"only": "tests,migrations", "environment": "production"})
    assert run.ok, run.log
    assert_outputs_written(run, "actions/gate")
    assert run.outputs["ok"] == "true"
    assert [c["name"] for c in read_report(run)["checks"]] == ["tests", "migrations"]
    assert "tests" in run.summary, "the checklist goes to the job summary"


def test_gate_fails_the_step_on_a_failing_test_but_still_writes_its_outputs(action_runner: ActionRunner) -> None:
    (action_runner.workspace / "reports").mkdir()
    (action_runner.workspace / "reports" / "junit.xml").write_text(FAILING_JUNIT)
    run = action_runner.run("actions/gate", {"only": "tests"})
    assert run.step("run").returncode == 1
    assert_outputs_written(run, "actions/gate")
    assert run.outputs["ok"] == "false"
    assert "::error" in run.step("run").stdout, "a failed gate is an annotation on the run"


def test_gate_skip_input_reaches_the_cli(action_runner: ActionRunner) -> None:
    (action_runner.workspace / "reports").mkdir()
    (action_runner.workspace / "reports" / "junit.xml").write_text(PASSING_JUNIT)
    run = action_runner.run(
        "actions/gate", {"skip": "security-audit,performance,feature-flags,monitoring", "sha": "0" * 40}
    )
    assert [c["name"] for c in read_report(run)["checks"]] == ["tests", "migrations"]


def _deploy(action_runner: ActionRunner, sandbox: Sandbox, environment: str) -> ActionRun:
    run = action_runner.run("actions/deploy", {"path": str(SITE), "environment": environment}, env=sandbox.env())
    assert run.ok, run.log
    return run


def test_deploy_uploads_the_site_and_exposes_the_deployment(action_runner: ActionRunner, sandbox: Sandbox) -> None:
    run = _deploy(action_runner, sandbox, "staging")
    assert_outputs_written(run, "actions/deploy")
    assert run.outputs["environment"] == "staging"
    assert run.outputs["deployment-id"].startswith("dpl_")
    assert sandbox.deployment_url(run.outputs["deployment-id"]) == run.outputs["url"]
    assert sandbox.alias_target("staging.aikinklab.com") == run.outputs["deployment-id"]


def test_the_vercel_token_never_reaches_the_log(action_runner: ActionRunner, sandbox: Sandbox) -> None:
    token = "sandbox-secret-token-4f1c9a"
    env = {**sandbox.env(), "VERCEL_TOKEN": token}
    run = action_runner.run("actions/deploy", {"path": str(SITE), "environment": "staging"}, env=env)
    assert run.ok, run.log
    assert f"::add-mask::{token}" in run.step("run").stdout.splitlines()[0], "masked before anything prints"
    assert token not in run.log.replace(f"::add-mask::{token}", "")
    assert token not in run.summary
    assert all(token not in value for value in run.step("run").outputs.values())


def test_promote_rebuilds_a_preview_for_production_only_when_allowed(
    action_runner: ActionRunner, sandbox: Sandbox
) -> None:
    preview = _deploy(action_runner, sandbox, "preview").outputs["deployment-id"]
    refused = action_runner.run("actions/promote", {"deployment": preview}, env=sandbox.env())
    assert refused.step("run").returncode == 2
    assert "--rebuild" in refused.log

    run = action_runner.run("actions/promote", {"deployment": preview, "rebuild": "true"}, env=sandbox.env())
    assert run.ok, run.log
    assert_outputs_written(run, "actions/promote")
    assert run.outputs["deployment-id"] != preview, "a rebuild is a new deployment"
    assert production(sandbox) == run.outputs["deployment-id"]


def test_promote_refuses_a_deployment_that_looks_like_an_option(action_runner: ActionRunner) -> None:
    run = action_runner.run("actions/promote", {"deployment": "--rebuild"})
    assert run.step("run").returncode == 2
    assert "::error::input 'deployment' must not start with '-'" in run.step("run").stdout


def test_rollback_then_promote_moves_production_back_and_forth(action_runner: ActionRunner, sandbox: Sandbox) -> None:
    first = _deploy(action_runner, sandbox, "production").outputs["deployment-id"]
    second = _deploy(action_runner, sandbox, "production").outputs["deployment-id"]
    dry = action_runner.run("actions/rollback", {"dry-run": "true"}, env=sandbox.env())
    assert dry.ok, dry.log
    assert dry.outputs["to-deployment"] == first
    assert production(sandbox) == second, "a dry run changes nothing"

    run = action_runner.run("actions/rollback", {"reason": "checkout broken after deploy"}, env=sandbox.env())
    assert run.ok, run.log
    assert_outputs_written(run, "actions/rollback")
    assert (run.outputs["from-deployment"], run.outputs["to-deployment"]) == (second, first)
    assert production(sandbox) == first

    back = action_runner.run("actions/promote", {"deployment": second}, env=sandbox.env())
    assert back.ok, back.log
    assert_outputs_written(back, "actions/promote")
    assert (back.outputs["deployment-id"], back.outputs["previous-deployment-id"]) == (second, first)
    assert production(sandbox) == second


def test_gate_reads_its_config_input_and_passes_every_configured_gate(action_runner: ActionRunner) -> None:
    config = REPO / "tests" / "actions" / "data" / "selftest-ops.yml"
    run = action_runner.run("actions/gate", {"config": str(config)})
    assert run.ok, run.log
    checks = {c["name"]: c["status"] for c in read_report(run)["checks"]}
    assert checks == {
        "tests": "pass",
        "security-audit": "pass",
        "performance": "pass",
        "migrations": "skip",
        "feature-flags": "pass",
        "monitoring": "pass",
    }
