"""What the runbook workflows promise the team that copies them: when they run, with which
rights, one deploy at a time per environment, and the monitoring window the SLA is judged on.
(zizmor, actionlint and the schemas in .ci/run check the rest.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from actions_runner import REPO, load_action

WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def all_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_the_runbook_workflows_exist() -> None:
    assert {"ci.yml", "deploy.yml", "backup.yml", "rollback.yml", "monitor.yml"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_no_right_is_granted_by_default_and_writes_only_where_a_step_needs_them(name: str) -> None:
    data = workflow(name)
    assert data["permissions"] == {}, "rights are granted job by job"
    expected_writes = {
        ("deploy.yml", "release"): {"deployments", "issues"},
        ("deploy.yml", "preview"): {"deployments", "pull-requests"},
        ("backup.yml", "backup"): {"contents"},
        ("rollback.yml", "rollback"): {"issues"},
        ("monitor.yml", "monitor"): {"issues"},
    }
    for job_id, job in data["jobs"].items():
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        assert writes == expected_writes.get((name, job_id), set()), f"{name}:{job_id}"


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_keep_no_credential_on_disk(name: str) -> None:
    checkouts = [s for s in all_steps(workflow(name)) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", NAMES)
def test_every_local_action_used_exists_and_gets_only_its_inputs(name: str) -> None:
    for step in all_steps(workflow(name)):
        ref = step.get("uses", "")
        if not ref.startswith(("./", "$/")):
            continue
        action = load_action(REPO / ref[2:] / "action.yml")
        declared = action.get("inputs") or {}
        assert set(step.get("with") or {}) <= set(declared), f"{name}: {ref}"
        required = {k for k, v in declared.items() if v.get("required")}
        assert required <= set(step.get("with") or {}), f"{name}: {ref} misses {required}"


def test_deploys_and_rollbacks_of_an_environment_wait_for_each_other() -> None:
    deploy = workflow("deploy.yml")["jobs"]
    rollback = workflow("rollback.yml")
    release = deploy["release"]["concurrency"]
    assert release["group"] == "deploy-${{ github.ref_name == 'main' && 'production' || 'staging' }}"
    assert release["cancel-in-progress"] is False, "never cancel a deploy half-way through"
    assert rollback["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    assert deploy["preview"]["concurrency"]["group"] == "deploy-preview-${{ github.event.pull_request.number }}"


def test_deploy_runs_on_main_develop_and_pull_requests_but_not_for_forks() -> None:
    data = workflow("deploy.yml")
    assert data["on"]["push"]["branches"] == ["main", "develop"]
    assert "pull_request" in data["on"] and "pull_request_target" not in data["on"]
    assert "head.repo.full_name == github.repository" in data["jobs"]["preview"]["if"]


def test_backup_runs_daily_and_by_hand_with_full_history_and_publishes_and_prunes() -> None:
    data = workflow("backup.yml")
    assert len(data["on"]["schedule"]) == 1
    assert data["on"]["workflow_dispatch"]["inputs"]["type"]["options"] == ["full", "code", "config"]
    steps = all_steps(data)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    backup = next(s for s in steps if s.get("uses") == "$/actions/backup")
    assert (backup["with"]["publish"], backup["with"]["prune"]) == ("true", "true")


def test_rollback_takes_an_environment_a_deployment_and_a_reason_and_opens_the_incident() -> None:
    data = workflow("rollback.yml")
    inputs = data["on"]["workflow_dispatch"]["inputs"]
    assert inputs["reason"]["required"] is True and inputs["deployment"]["required"] is False
    steps = all_steps(data)
    incident = next(s for s in steps if s.get("uses") == "$/actions/incident")
    assert incident["with"]["action"] == "open"
    assert incident["if"] == "${{ !cancelled() }}", "a failed rollback is an incident too"


def test_monitor_probes_a_five_minute_window_every_five_minutes_and_keeps_its_history() -> None:
    data = workflow("monitor.yml")
    assert data["on"]["schedule"] == [{"cron": "*/5 * * * *"}]
    steps = all_steps(data)
    monitor = next(s for s in steps if s.get("uses") == "$/actions/monitor")
    assert (monitor["with"]["duration"], monitor["with"]["interval"]) == ("5m", "30s")
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    assert restore["with"]["path"] == save["with"]["path"] == monitor["with"]["history"]
    assert save["if"] == "${{ !cancelled() }}", "a breach is history too"
    assert restore["with"]["key"] == save["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])


def test_ci_self_test_runs_the_root_action_from_the_checkout_against_the_sandbox() -> None:
    data = workflow("ci.yml")
    steps = data["jobs"]["self-test"]["steps"]
    sandbox = next(i for i, s in enumerate(steps) if "aikinklab-ops sandbox" in s.get("run", ""))
    root = next(i for i, s in enumerate(steps) if s.get("uses") == "./")
    assert sandbox < root
    assert Path(REPO / steps[root]["with"]["config"]).is_file()
