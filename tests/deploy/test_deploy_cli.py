"""The deploy/promote/rollback/deployments commands in-process: outputs, exit codes, GitHub, secrets."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import responses
from vercel_fake_api import PROJECT, TEAM, TOKEN, FakeVercel, deployment, error, list_item, listing, project

from aikinklab_ops.cli import main

GH = "https://api.github.com"


def gh_url(path: str) -> re.Pattern[str]:
    """PyGithub may spell the host with an explicit :443."""
    return re.compile(r"https://api\.github\.com(:443)?" + re.escape(path) + r"(\?.*)?$")


GH_TOKEN = "ghs_testgithubtoken0123456789"
REPO = "aikinklab/web"


def app(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    (root / "app").mkdir(parents=True)
    (root / "package.json").write_text('{"name":"web"}')
    (root / "app" / "page.tsx").write_text("export default 1")
    (root / ".env.local").write_text("SECRET=never-upload")
    (tmp_path / "ops.yml").write_text("deploy:\n  poll_intervals_s: [0.01]\n")
    return root


def env(**extra: str) -> dict[str, str]:
    base = {"VERCEL_TOKEN": TOKEN, "VERCEL_ORG_ID": TEAM, "VERCEL_PROJECT_ID": PROJECT}
    base.update(extra)
    return base


def cli(args: list[str], tmp_path: Path, environ: dict[str, str]) -> tuple[int, str, str]:
    """Runs main(); stdout comes back without the ::add-mask:: lines that must name the secrets."""
    out, err = io.StringIO(), io.StringIO()
    code = main(args, env=environ, stdout=out, stderr=err, cwd=tmp_path)
    shown = "".join(line for line in out.getvalue().splitlines(keepends=True) if not line.startswith("::add-mask::"))
    return code, shown, err.getvalue()


def outputs(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {
        m.group(1): m.group(3) for m in re.finditer(r"^([\w-]+)<<(ghadelimiter_\w+)\n(.*?)\n\2$", text, re.M | re.S)
    }


def test_deploy_json_report_and_github_outputs(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_ok", state="BUILDING"))
    fake.add("GET", "/v13/deployments/dpl_ok", json_body=deployment("dpl_ok", state="READY"))
    fake.add(
        "POST",
        "/v2/deployments/dpl_ok/aliases",
        json_body={"alias": "staging.aikinklab.com", "created": "2026-01-01T00:00:00.000Z", "uid": "al_1"},
    )
    out_file = tmp_path / "gh_output"
    code, out, err = cli(
        ["--format", "github", "deploy", "--path", "web", "--env", "staging", "--concurrency", "2"],
        tmp_path,
        env(GITHUB_OUTPUT=str(out_file)),
    )
    assert code == 0, err
    got = outputs(out_file)
    assert got["deployment-id"] == "dpl_ok"
    assert got["url"] == "https://aikinklab-ok.vercel.app"
    assert got["inspector-url"].startswith("https://vercel.com/")
    assert got["environment"] == "staging" and got["aliases"] == "staging.aikinklab.com"
    body = fake.calls_to("POST", "/v13/deployments")[0].json()
    assert ".env.local" not in {f["file"] for f in body["files"]}
    assert TOKEN not in out + err + out_file.read_text()

    code, out, err = cli(["--format", "json", "deploy", "--path", "web", "--env", "staging"], tmp_path, env())
    report = json.loads(out)
    assert code == 0 and report["kind"] == "deploy" and report["ok"] is True and report["target"] == "staging"
    details = report["checks"][0]["details"]
    assert report["checks"][0]["name"] == "deploy"
    for key in (
        "deployment_id",
        "url",
        "inspector_url",
        "target",
        "aliases",
        "files_total",
        "files_uploaded",
        "bytes_uploaded",
    ):
        assert key in details
    assert details["files_total"] == 2 and details["aliases"] == ["staging.aikinklab.com"]


def test_failed_build_exits_1_with_the_log_on_stderr(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        json_body=deployment("dpl_bad", state="ERROR", errorCode="BUILD_FAILED", errorMessage="Command failed"),
    )
    fake.add(
        "GET",
        "/v3/deployments/dpl_bad/events",
        json_body=[
            {
                "type": "stderr",
                "created": 1,
                "payload": {"date": 1, "deploymentId": "dpl_bad", "id": "1", "serial": "1", "text": "Type error: x"},
            }
        ],
    )
    code, out, err = cli(["deploy", "--path", "web"], tmp_path, env())
    assert code == 1
    assert "BUILD_FAILED" in out and "Type error: x" in err and "inspect: https://vercel.com/" in err


def test_missing_project_id_is_a_usage_error_before_any_request(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    code, _out, err = cli(["deploy", "--path", "web"], tmp_path, {"VERCEL_TOKEN": TOKEN})
    assert code == 2 and "VERCEL_PROJECT_ID" in err and fake.calls == []


def test_bad_flags(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    assert cli(["deploy", "--path", "web", "--timeout", "0"], tmp_path, env())[0] == 2
    assert cli(["deploy", "--path", "web", "--concurrency", "0"], tmp_path, env())[0] == 2
    code, _, err = cli(["deploy", "--path", "nope"], tmp_path, env())
    assert code == 2 and "not a directory" in err
    code, _, err = cli(["deploy", "--path", "web", "--env", "prod"], tmp_path, env())
    assert code == 2 and "unknown environment 'prod'" in err
    assert fake.calls == []


def test_api_error_exits_3_without_the_token(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", status=403, json_body=error("forbidden", f"token {TOKEN} not allowed"))
    code, out, err = cli(["deploy", "--path", "web"], tmp_path, env())
    assert code == 3 and "forbidden" in err and TOKEN not in out + err


def _github(rsps: responses.RequestsMock, comments: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    seen: list[tuple[str, str, Any]] = []

    def record(status: int, body: Any):  # type: ignore[no-untyped-def]
        def cb(request):  # type: ignore[no-untyped-def]
            payload = json.loads(request.body) if request.body else None
            seen.append((request.method, request.path_url, payload))
            assert request.headers["Authorization"].endswith(GH_TOKEN)
            return status, {"Content-Type": "application/json"}, json.dumps(body)

        return cb

    dep = {"id": 42, "url": f"{GH}/repos/{REPO}/deployments/42", "environment": "preview", "sha": "abc123"}
    rsps.add_callback("POST", gh_url(f"/repos/{REPO}/deployments"), callback=record(201, dep))
    rsps.add_callback("GET", gh_url(f"/repos/{REPO}/deployments/42"), callback=record(200, dep))
    rsps.add_callback(
        "POST", gh_url(f"/repos/{REPO}/deployments/42/statuses"), callback=record(201, {"id": 1, "state": "x"})
    )
    issue = {"number": 5, "url": f"{GH}/repos/{REPO}/issues/5", "title": "pr"}
    rsps.add_callback("GET", gh_url(f"/repos/{REPO}/issues/5"), callback=record(200, issue))
    rsps.add_callback("GET", gh_url(f"/repos/{REPO}/issues/5/comments"), callback=record(200, comments))
    created = {"id": 77, "url": f"{GH}/repos/{REPO}/issues/comments/77", "body": "x"}
    rsps.add_callback("POST", gh_url(f"/repos/{REPO}/issues/5/comments"), callback=record(201, created))
    rsps.add_callback("PATCH", gh_url(f"/repos/{REPO}/issues/comments/77"), callback=record(200, created))
    return seen


def _pr_env(tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"number": 5, "pull_request": {"number": 5, "title": "Add page", "head": {"sha": "abc123"}}})
    )
    return env(
        GITHUB_TOKEN=GH_TOKEN,
        GITHUB_REPOSITORY=REPO,
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/5/merge",
        GITHUB_HEAD_REF="feature/page",
        GITHUB_SHA="abc123",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_RUN_ID="99",
    )


def test_pull_request_gets_a_github_deployment_and_one_preview_comment(
    fake: FakeVercel, mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_pr", state="READY"))
    seen = _github(mocked_api, comments=[{"id": 3, "url": f"{GH}/repos/{REPO}/issues/comments/3", "body": "unrelated"}])
    code, out, err = cli(["--format", "json", "deploy", "--path", "web"], tmp_path, _pr_env(tmp_path))
    assert code == 0, err
    report = json.loads(out)
    assert report["target"] == "preview" and [c["status"] for c in report["checks"]] == ["pass", "pass"]
    posts = [(m, p.split("?")[0], b) for m, p, b in seen if m in ("POST", "PATCH")]
    assert posts[0][0:2] == ("POST", f"/repos/{REPO}/deployments")
    assert posts[0][2]["ref"] == "abc123" and posts[0][2]["environment"] == "preview"
    assert posts[0][2]["transient_environment"] is True and posts[0][2]["production_environment"] is False
    states = [b["state"] for m, p, b in posts if p.endswith("/statuses")]
    assert states == ["in_progress", "success"]
    final = [b for m, p, b in posts if p.endswith("/statuses")][-1]
    assert final["environment_url"] == "https://aikinklab-pr.vercel.app"
    comment_posts = [b for m, p, b in posts if p.endswith("/issues/5/comments")]
    assert len(comment_posts) == 1 and "https://aikinklab-pr.vercel.app" in comment_posts[0]["body"]
    assert "<!-- aikinklab-ops:preview-deployment -->" in comment_posts[0]["body"]
    body = fake.calls_to("POST", "/v13/deployments")[0].json()
    assert body["gitMetadata"]["commitRef"] == "feature/page" and body["gitMetadata"]["commitSha"] == "abc123"
    assert body["gitMetadata"]["remoteUrl"] == f"https://github.com/{REPO}"
    assert GH_TOKEN not in out + err


def test_the_preview_comment_is_updated_not_repeated(
    fake: FakeVercel, mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_pr2", state="READY"))
    ours = {
        "id": 77,
        "url": f"{GH}/repos/{REPO}/issues/comments/77",
        "body": "<!-- aikinklab-ops:preview-deployment -->\nold",
    }
    seen = _github(mocked_api, comments=[ours])
    code, _, err = cli(["deploy", "--path", "web"], tmp_path, _pr_env(tmp_path))
    assert code == 0, err
    assert not [1 for m, p, _ in seen if m == "POST" and p.endswith("/issues/5/comments")]
    edits = [b for m, p, b in seen if m == "PATCH"]
    assert len(edits) == 1 and "https://aikinklab-pr2.vercel.app" in edits[0]["body"]


def test_github_failure_is_a_warning_not_a_failed_deploy(
    fake: FakeVercel, mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_ok", state="READY"))
    mocked_api.add(
        "POST",
        gh_url(f"/repos/{REPO}/deployments"),
        status=403,
        json={"message": "Resource not accessible by integration"},
    )
    environ = env(
        GITHUB_TOKEN=GH_TOKEN,
        GITHUB_REPOSITORY=REPO,
        GITHUB_EVENT_NAME="push",
        GITHUB_REF="refs/heads/feature",
        GITHUB_SHA="abc",
    )
    code, out, _err = cli(["--format", "json", "deploy", "--path", "web"], tmp_path, environ)
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert report["checks"][1]["status"] == "warn" and "Resource not accessible" in report["checks"][1]["summary"]


def test_promote_cli_outputs(fake: FakeVercel, tmp_path: Path) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=201)
    out_file = tmp_path / "o"
    code, _out, err = cli(["--format", "github", "promote", "dpl_new"], tmp_path, env(GITHUB_OUTPUT=str(out_file)))
    assert code == 0, err
    got = outputs(out_file)
    assert (
        got["deployment-id"] == "dpl_new"
        and got["previous-deployment-id"] == "dpl_cur"
        and got["outcome"] == "promoted"
    )


def test_promote_preview_without_rebuild_exits_2(fake: FakeVercel, tmp_path: Path) -> None:
    fake.add("GET", "/v13/deployments/dpl_pv", json_body=deployment("dpl_pv", target=None, projectId=PROJECT))
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body=project("dpl_cur"))
    code, _, err = cli(["promote", "dpl_pv"], tmp_path, env())
    assert code == 2 and "--rebuild" in err


def test_rollback_dry_run_cli(fake: FakeVercel, tmp_path: Path) -> None:
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body=project("dpl_cur"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_cur",
        json_body=deployment("dpl_cur", target="production", created=5000, projectId=PROJECT),
    )
    fake.add(
        "GET",
        "/v7/deployments",
        json_body=listing([list_item("dpl_cur", created=5000), list_item("dpl_prev", created=4000)]),
    )
    fake.add(
        "GET",
        "/v13/deployments/dpl_prev",
        json_body=deployment("dpl_prev", target="production", created=4000, projectId=PROJECT),
    )
    out_file = tmp_path / "o"
    code, _out, err = cli(["--format", "github", "rollback", "--dry-run"], tmp_path, env(GITHUB_OUTPUT=str(out_file)))
    assert code == 0, err
    got = outputs(out_file)
    assert got["from-deployment"] == "dpl_cur" and got["to-deployment"] == "dpl_prev" and got["dry-run"] == "true"
    assert fake.calls_to("POST", r".*") == []


def test_rollback_without_candidate_exits_1(fake: FakeVercel, tmp_path: Path) -> None:
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body=project("dpl_cur"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_cur",
        json_body=deployment("dpl_cur", target="production", created=5000, projectId=PROJECT),
    )
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_cur", created=5000)]))
    code, _, err = cli(["rollback"], tmp_path, env())
    assert code == 1 and "nothing to roll back to" in err


def test_deployments_list_table_and_json(fake: FakeVercel, tmp_path: Path) -> None:
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body=project("dpl_cur"))
    fake.add(
        "GET",
        "/v7/deployments",
        json_body=listing([list_item("dpl_cur", created=5000), list_item("dpl_prev", created=4000)]),
    )
    code, out, _ = cli(["deployments", "list", "--env", "production", "--limit", "5"], tmp_path, env())
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATE", "TARGET", "CREATED", "URL"]
    assert lines[1].startswith("*") and "dpl_cur" in lines[1] and "dpl_prev" in lines[2]
    assert fake.calls_to("GET", "/v7/deployments")[0].params["target"] == "production"
    code, out, _ = cli(["--format", "json", "deployments", "list"], tmp_path, env())
    data = json.loads(out)
    assert data["current_production"] == "dpl_cur" and [d["id"] for d in data["deployments"]] == ["dpl_cur", "dpl_prev"]


def test_a_deploy_that_raises_marks_the_github_deployment_failed(
    fake: FakeVercel, mocked_api: responses.RequestsMock, tmp_path: Path
) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", status=402, json_body=error("payment_required", "Payment required"))
    seen = _github(mocked_api, comments=[])
    environ = env(
        GITHUB_TOKEN=GH_TOKEN,
        GITHUB_REPOSITORY=REPO,
        GITHUB_EVENT_NAME="push",
        GITHUB_REF="refs/heads/develop",
        GITHUB_SHA="abc",
    )
    code, _, err = cli(["deploy", "--path", "web"], tmp_path, environ)
    assert code == 3 and "Billing" in err
    states = [b["state"] for m, p, b in seen if m == "POST" and p.split("?")[0].endswith("/statuses")]
    assert states == ["in_progress", "failure"]
    created = [b for m, p, b in seen if m == "POST" and p.split("?")[0].endswith("/deployments")]
    assert created[0]["environment"] == "staging" and created[0]["production_environment"] is False
