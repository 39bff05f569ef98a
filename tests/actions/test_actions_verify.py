"""The verify action against a real site on 127.0.0.1: the bundled example site, and a copy of it
that lost its ``vercel.json`` (no security headers, no health rewrite)."""

from __future__ import annotations

from actions_runner import ActionRunner, assert_outputs_written, read_report


def test_verify_passes_on_the_example_site_and_writes_every_output(
    action_runner: ActionRunner, example_site: str
) -> None:
    run = action_runner.run("actions/verify", {"url": example_site, "environment": "staging"})
    assert run.ok, run.log
    assert_outputs_written(run, "actions/verify")
    assert run.outputs["ok"] == "true"
    assert run.outputs["url"] == example_site
    assert run.outputs["grade"][0] in "ABCDF"
    data = read_report(run)
    assert data["kind"] == "verify" and data["ok"] is True
    assert "security-headers" in run.summary, "the checks are tabled in the job summary"


def test_verify_only_runs_the_checks_named(action_runner: ActionRunner, example_site: str) -> None:
    run = action_runner.run("actions/verify", {"url": example_site, "only": "health,pages"})
    assert run.ok, run.log
    assert [c["name"] for c in read_report(run)["checks"]] == ["health", "pages"]


def test_verify_fails_the_step_on_a_broken_site_and_still_reports(
    action_runner: ActionRunner, broken_site: str
) -> None:
    # Not health: on a 404 it keeps retrying for the warm-up window, which a test need not wait out.
    run = action_runner.run("actions/verify", {"url": broken_site, "only": "pages,security-headers"})
    step = run.step("run")
    assert step.returncode == 1
    assert_outputs_written(run, "actions/verify")
    assert run.outputs["ok"] == "false"
    assert "::error title=verify" in step.stdout, "each failed check is an annotation"
    assert read_report(run)["ok"] is False


def test_verify_refuses_a_url_that_looks_like_an_option(action_runner: ActionRunner) -> None:
    run = action_runner.run("actions/verify", {"url": "--ca-bundle=/etc/passwd"})
    assert run.step("run").returncode == 2
    assert "::error::input 'url' must not start with '-'" in run.step("run").stdout
