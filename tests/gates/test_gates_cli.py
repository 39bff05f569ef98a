"""`aikinklab-ops gate` as a user runs it: exit codes, --only/--skip, JSON, the job-summary checklist."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import responses
from gates_support import GATES_DATA, check_run, combined

from aikinklab_ops.cli import main
from aikinklab_ops.gates import GATE_NAMES, GATES
from aikinklab_ops.gates.examples import artifacts_dir

A = artifacts_dir()
PASSING = [
    "--junit", str(A / "junit.xml"), "--audit-report", str(A / "npm-audit.json"),
    "--lighthouse", str(A / "lighthouse"), "--flags", str(A / "feature-flags.yml"),
    "--monitoring", str(A / "monitoring.yml"),
]  # fmt: skip
TOKEN = "ghs_abcdefghijklmnopqrstuvwxyz0123456789"


def run(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env=env or {}, stdout=out, stderr=err, cwd=tmp_path)
    return code, out.getvalue(), err.getvalue()


def test_registry_matches_the_checklist_and_the_schema() -> None:
    schema = json.loads((Path(__file__).parents[2] / "aikinklab_ops/config/schema/gates.json").read_text())
    assert tuple(GATES) == GATE_NAMES
    assert schema["properties"]["checks"]["items"]["enum"] == list(GATE_NAMES)
    assert all(g.label for g in GATES.values())


def test_example_inputs_pass_with_exit_0_and_json(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "--format", "json", "gate", *PASSING, "--env", "production")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "gate" and doc["ok"] is True and doc["target"] == "production"
    assert [c["name"] for c in doc["checks"]] == list(GATE_NAMES)
    assert {c["name"]: c["status"] for c in doc["checks"]}["migrations"] == "skip"


def test_failing_gate_exits_1(tmp_path: Path) -> None:
    audit = str(GATES_DATA / "npm-audit" / "npm7-high-cryo.json")
    code, out, _ = run(tmp_path, "gate", *PASSING, "--audit-report", audit)
    assert code == 1
    assert "FAIL  security-audit  1 high: cryo GHSA-38f5-ghc2-fcmv (no fix)" in out


def test_repeated_flag_replaces_the_config_and_adds_up(tmp_path: Path) -> None:
    clean = str(A / "npm-audit.json")
    cryo = str(GATES_DATA / "npm-audit" / "npm6-high-cryo.json")
    code, out, _ = run(
        tmp_path,
        "--format",
        "json",
        "gate",
        "--only",
        "security-audit",
        "--audit-report",
        clean,
        "--audit-report",
        cryo,
    )
    assert code == 1
    [check] = json.loads(out)["checks"]
    assert [r["file"] for r in check["details"]["reports"]] == [clean, cryo]


def test_only_and_skip(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "--format", "json", "gate", *PASSING, "--only", "tests,performance", "--skip", "tests")
    assert code == 0
    assert [c["name"] for c in json.loads(out)["checks"]] == ["performance"]
    code, out, _ = run(tmp_path, "--format", "json", "gate", *PASSING, "--only", "tests", "--only", "monitoring")
    assert [c["name"] for c in json.loads(out)["checks"]] == ["tests", "monitoring"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "tests,secruity-audit"], "--only: unknown gate 'secruity-audit'"),
        (["--skip", "lint"], "--skip: unknown gate 'lint'"),
        (["--skip", ",".join(GATE_NAMES)], "no gate left to run"),
        (["--only", ","], "--only: no gate named"),
    ],
)
def test_bad_gate_names_exit_2(argv: list[str], message: str, tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "gate", *PASSING, *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_invalid_allowlist_in_ops_yml_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "gates:\n  security_audit:\n    allowlist:\n      - {id: GHSA-38f5-ghc2-fcmv, expires: 2027-01-01}\n"
    )
    code, _, err = run(tmp_path, "gate", *PASSING)
    assert code == 2
    assert 'ops.yml: gates.security_audit.allowlist[0]: missing required key "reason" (line 4)' in err


def test_checklist_in_the_step_summary_and_outputs(tmp_path: Path) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    audit = str(GATES_DATA / "npm-audit" / "npm7-high-axios-transitive.json")
    code, out, _ = run(tmp_path, "gate", *PASSING, "--audit-report", audit, env=env)
    assert code == 1
    md = summary.read_text()
    assert "- [x] All tests passing\n" in md
    assert "- [ ] Security audit clean — 4 high: axios GHSA-42xw-2xvc-qx8m" in md
    assert "- [x] Performance benchmarks met\n" in md
    assert "- [ ] Database migrations ready — skipped: not applicable: no database" in md
    assert "- [x] Feature flags configured\n" in md
    assert "- [x] Monitoring alerts configured\n" in md
    assert "::error title=gate%3A security-audit::4 high" in out
    text = outputs.read_text()
    assert re.search(r"ok<<(ghadelimiter_\w+)\nfalse\n\1", text)
    assert re.search(r"failed<<(ghadelimiter_\w+)\nsecurity-audit\n\1", text)


def test_github_checks_through_the_cli_without_leaking_the_token(
    mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    root = r"https://api\.github\.com(:443)?/repos/aikinklab/aikinklab/commits/" + sha
    body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    mocked_api.add(responses.GET, re.compile(root + r"/check-runs.*"), status=401, json=body)
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "aikinklab/aikinklab", "GITHUB_SHA": sha, "GITHUB_JOB": "gate"}
    code, out, err = run(
        tmp_path, "--format", "json", "gate", "--only", "tests", "--junit", str(A / "junit.xml"), env=env
    )
    assert code == 1  # the gate could not check GitHub: an error result, not a pass
    [check] = json.loads(out)["checks"]
    assert check["status"] == "error"
    assert "HTTP 401 Bad credentials" in check["summary"] and "GITHUB_TOKEN is invalid or expired" in check["summary"]
    assert TOKEN not in out + err


def test_help_lists_every_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "--help"], env={}, stdout=io.StringIO(), stderr=io.StringIO(), cwd=tmp_path) == 0
    text = capsys.readouterr().out
    for flag in ("--only", "--skip", "--sha", "--env", "--junit", "--audit-report", "--lighthouse", "--vitals",
                 "--flags", "--monitoring"):  # fmt: skip
        assert flag in text


def test_pull_request_checks_the_head_commit_not_the_merge_commit(
    mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    head, merge = "a" * 40, "b" * 40
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": head}}}))
    root = r"https://api\.github\.com(:443)?/repos/aikinklab/aikinklab/commits/" + head
    runs = {"total_count": 1, "check_runs": [check_run(1, "test", sha=head)]}
    mocked_api.add(responses.GET, re.compile(root + r"/check-runs.*"), json=runs)
    mocked_api.add(responses.GET, re.compile(root + r"/status.*"), json=combined("success", [], sha=head))
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "aikinklab/aikinklab",
        "GITHUB_SHA": merge,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
    }
    (tmp_path / "ops.yml").write_text("gates:\n  tests:\n    junit: []\n")
    code, out, _ = run(tmp_path, "--format", "json", "gate", "--only", "tests", env=env)
    assert code == 0, out
    assert json.loads(out)["checks"][0]["details"]["sha"] == head
