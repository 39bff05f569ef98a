"""The tests gate against GitHub's checks API (through `responses`, with GitHub's documented shapes)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import responses
from gates_support import API, REPO, SHA, check_run, combined

from aikinklab_ops.config import Config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.github.checks import GitHubChecks
from aikinklab_ops.report import CheckResult, Status

RUNS_URL = f"{API}/repos/{REPO}/commits/{SHA}/check-runs"
STATUS_URL = f"{API}/repos/{REPO}/commits/{SHA}/status"
# PyGithub spells the default port out (https://api.github.com:443/...); both mean the same URL.
_ROOT = r"https://api\.github\.com(:443)?"
RUNS = re.compile(_ROOT + re.escape(f"/repos/{REPO}/commits/{SHA}/check-runs") + r"(\?.*)?$")
STATUS = re.compile(_ROOT + re.escape(f"/repos/{REPO}/commits/{SHA}/status") + r"(\?.*)?$")
TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"


def cfg_with(write_config, **github: Any) -> Config:
    settings = {"wait_timeout_s": 2, "poll_interval_s": 0.01, **github}
    return write_config("gates:\n  tests:\n    junit: []\n    github: " + json.dumps(settings) + "\n")


def gate(cfg: Config, tmp_path: Path, own_job: str | None = "gate") -> CheckResult:
    client = GitHubChecks(TOKEN, REPO, API, timeout_s=5, seconds_between_requests=None)
    inputs = GateInputs(cwd=tmp_path, sha=SHA, own_job=own_job)
    return run_gates(cfg, inputs, only=["tests"], github=client).check("tests")


def runs_page(rsps: responses.RequestsMock, runs: list[dict[str, Any]]) -> None:
    rsps.add(responses.GET, RUNS, json={"total_count": len(runs), "check_runs": runs})


def test_all_green_with_pagination_passes(mocked_api: responses.RequestsMock, write_config, tmp_path: Path) -> None:
    page1 = [check_run(i, f"job-{i}") for i in range(1, 4)]
    page2 = [check_run(4, "test"), check_run(5, "gate", "in_progress")]
    seen: list[str] = []

    def paged(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(request.url)
        assert request.headers["Authorization"] == f"token {TOKEN}"
        if "page=2" in request.url:
            return 200, {}, json.dumps({"total_count": 5, "check_runs": page2})
        link = f'<{RUNS_URL}?filter=latest&per_page=100&page=2>; rel="next", <{RUNS_URL}?page=2>; rel="last"'
        return 200, {"Link": link}, json.dumps({"total_count": 5, "check_runs": page1})

    mocked_api.add_callback(responses.GET, RUNS, callback=paged)
    mocked_api.add(responses.GET, STATUS, json=combined("success", [("Vercel", "success")]))
    result = gate(cfg_with(write_config, required=["test", "Vercel"]), tmp_path)
    assert result.status is Status.PASS, result.summary
    assert result.summary == f"5 checks succeeded on {SHA[:12]}"  # job-1..3, test, Vercel; gate excluded
    assert len(seen) == 2 and "filter=latest" in seen[0]
    assert {c["name"] for c in result.details["checks"]} == {"job-1", "job-2", "job-3", "test", "Vercel"}


def test_failed_check_and_status_are_named(mocked_api: responses.RequestsMock, write_config, tmp_path: Path) -> None:
    runs = [
        check_run(1, "lint"),
        check_run(2, "test", conclusion="failure"),
        check_run(3, "e2e", conclusion="timed_out"),
        check_run(4, "docs", conclusion="skipped"),
    ]
    runs_page(mocked_api, runs)
    mocked_api.add(responses.GET, STATUS, json=combined("failure", [("ci/circleci", "error")]))
    result = gate(cfg_with(write_config), tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == "failed on GitHub: test (failure), e2e (timed_out), ci/circleci (error)"


def test_pending_then_completed_is_waited_for(mocked_api: responses.RequestsMock, write_config, tmp_path: Path) -> None:
    runs_page(mocked_api, [check_run(1, "test", "queued")])
    runs_page(mocked_api, [check_run(1, "test", "in_progress")])
    runs_page(mocked_api, [check_run(1, "test")])
    mocked_api.add(responses.GET, STATUS, json=combined("success", []))
    result = gate(cfg_with(write_config), tmp_path)
    assert result.status is Status.PASS
    assert result.details["polls"] == 3


def test_still_pending_after_timeout_fails_naming_it(
    mocked_api: responses.RequestsMock, write_config, tmp_path: Path
) -> None:
    runs_page(mocked_api, [check_run(1, "lint"), check_run(2, "test", "in_progress")])
    mocked_api.add(responses.GET, STATUS, json=combined("pending", [("Vercel", "pending")]))
    result = gate(cfg_with(write_config, wait_timeout_s=0.3), tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == "still pending after 0.3s: test, Vercel"
    assert result.details["polls"] >= 2


def test_required_check_that_never_reports_fails(
    mocked_api: responses.RequestsMock, write_config, tmp_path: Path
) -> None:
    runs_page(mocked_api, [check_run(1, "lint")])
    mocked_api.add(responses.GET, STATUS, json=combined("success", []))
    result = gate(cfg_with(write_config, required=["test"], wait_timeout_s=0.03), tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == "required but never reported: test"


def test_own_job_and_configured_exclusions_are_ignored(
    mocked_api: responses.RequestsMock, write_config, tmp_path: Path
) -> None:
    runs_page(mocked_api, [check_run(1, "test"), check_run(2, "gate", "in_progress"),
                           check_run(3, "deploy", "queued")])  # fmt: skip
    mocked_api.add(responses.GET, STATUS, json=combined("success", []))
    result = gate(cfg_with(write_config, exclude=["deploy"], wait_timeout_s=0), tmp_path, own_job="gate")
    assert result.status is Status.PASS
    assert result.details["excluded"] == ["deploy", "gate"]


def test_no_checks_at_all_is_a_failure(mocked_api: responses.RequestsMock, write_config, tmp_path: Path) -> None:
    runs_page(mocked_api, [check_run(1, "gate", "in_progress")])
    mocked_api.add(responses.GET, STATUS, json=combined("pending", []))
    result = gate(cfg_with(write_config), tmp_path)
    assert result.status is Status.FAIL
    assert result.summary == f"no check runs or statuses on {SHA[:12]} besides this job"


def test_api_error_is_an_error_result_without_the_token(
    mocked_api: responses.RequestsMock, write_config, tmp_path: Path
) -> None:
    mocked_api.add(
        responses.GET,
        RUNS,
        status=404,
        json={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
    )
    result = gate(cfg_with(write_config), tmp_path)
    assert result.status is Status.ERROR
    assert f"reading checks of {REPO}@{SHA[:12]} failed: HTTP 404 Not Found" in result.summary
    assert "GITHUB_REPOSITORY" in result.summary
    assert TOKEN not in json.dumps(result.to_dict())


def test_github_and_junit_are_both_required_to_pass(
    mocked_api: responses.RequestsMock, write_config, tmp_path: Path
) -> None:
    runs_page(mocked_api, [check_run(1, "test")])
    mocked_api.add(responses.GET, STATUS, json=combined("success", []))
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite tests="1"><testcase name="a"><failure message="boom"/></testcase>'
        "</testsuite></testsuites>"
    )
    client = GitHubChecks(TOKEN, REPO, API, seconds_between_requests=None)
    cfg = cfg_with(write_config)
    inputs = GateInputs(cwd=tmp_path, sha=SHA, junit=(junit,))
    result = run_gates(cfg, inputs, only=["tests"], github=client).check("tests")
    assert result.status is Status.FAIL
    assert result.summary == f"github: 1 checks succeeded on {SHA[:12]}; junit: 1 of 1 tests failed: a (failed: boom)"
    assert set(result.details) == {"github", "junit"}
