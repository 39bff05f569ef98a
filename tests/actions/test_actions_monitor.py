"""The monitor and incident actions, chained as the workflows chain them: probes of a real site
on 127.0.0.1 extend a history kept between runs, and an incident is opened, updated and resolved
(kept as a file, since the test gives no GitHub token)."""

from __future__ import annotations

import json
from pathlib import Path

from actions_runner import ActionRunner, assert_outputs_written, make_git_repo, read_report


def test_monitor_judges_the_sla_and_extends_the_history_between_runs(
    action_runner: ActionRunner, example_site: str
) -> None:
    # monitor also judges the backup RPO: a verified backup in the workspace keeps that green.
    make_git_repo(action_runner.workspace)
    assert action_runner.run("actions/backup", {"type": "code"}).ok
    history = action_runner.workspace / ".aikinklab-ops" / "monitor-history.jsonl"
    inputs = {"url": example_site, "duration": "1s", "interval": "1s", "history": str(history)}
    first = action_runner.run("actions/monitor", inputs)
    assert first.ok, first.log
    assert_outputs_written(first, "actions/monitor")
    assert first.outputs["ok"] == "true"
    assert first.outputs["uptime-percent"] == "100.000"
    assert first.outputs["incident-action"] == "none"
    rounds_after_first = len(history.read_text().splitlines())
    assert rounds_after_first >= 1

    second = action_runner.run("actions/monitor", inputs)
    assert second.ok, second.log
    assert len(history.read_text().splitlines()) > rounds_after_first, "the history file is extended, not replaced"


def test_verify_report_opens_an_incident_which_is_updated_and_resolved(
    action_runner: ActionRunner, tmp_path: Path
) -> None:
    report = tmp_path / "verify.json"
    failed = {
        "kind": "verify",
        "ok": False,
        "target": "https://www.aikinklab.com",
        "started_at": "2026-12-03T09:00:00+00:00",
        "duration_s": 1.0,
        "checks": [
            {"name": "health", "status": "fail", "summary": "HTTP 503", "details": {"code": 503}, "duration_s": 0.1}
        ],
    }
    report.write_text(json.dumps(failed))
    opened = action_runner.run("actions/incident", {"action": "open", "from-report": str(report)})
    assert opened.ok, opened.log
    assert_outputs_written(opened, "actions/incident")
    key = opened.outputs["key"]
    assert opened.outputs["state"] == "open"
    assert opened.outputs["severity"] in ("P0", "P1")
    incident_file = Path(opened.outputs["incident-file"])
    assert incident_file.is_file()

    updated = action_runner.run("actions/incident", {"action": "update", "key": key, "status": "Identified"})
    assert updated.ok, updated.log
    resolved = action_runner.run(
        "actions/incident",
        {
            "action": "resolve",
            "key": key,
            "resolution": "rolled back to the previous deployment",
            "root-cause": "a bad environment variable",
            "prevention": "verify the variables in the gate",
        },
    )
    assert resolved.ok, resolved.log
    assert resolved.outputs["state"] == "resolved"
    assert "rolled back to the previous deployment" in incident_file.read_text(encoding="utf-8")


def test_incident_refuses_an_action_that_looks_like_an_option(action_runner: ActionRunner) -> None:
    run = action_runner.run("actions/incident", {"action": "--help"})
    assert run.step("run").returncode == 2
    assert "::error::input 'action' must not start with '-'" in run.step("run").stdout


def test_monitor_can_leave_the_backup_rpo_out_of_the_verdict(action_runner: ActionRunner, example_site: str) -> None:
    inputs = {"url": example_site, "duration": "1s", "interval": "1s", "check-backup": "false", "incident": "false"}
    run = action_runner.run("actions/monitor", inputs)
    assert run.ok, run.log
    statuses = {c["name"]: c["status"] for c in read_report(run)["checks"]}
    assert statuses["backup-rpo"] == "skip", "no backup in the workspace, and still a green run"
    assert statuses["availability"] == "pass"
