"""The sandbox's API rules, driven without sockets and with a hand-moved clock."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sandbox_helpers import AUTH, PROJECT, Clock, call, deploy, get, make_app, sha1, upload

from aikinklab_ops.sandbox import SandboxApp


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> SandboxApp:
    return make_app(tmp_path, clock)


# -- auth and routing -------------------------------------------------------------------------


def test_a_request_without_a_bearer_token_is_forbidden_like_vercel(app: SandboxApp) -> None:
    resp = call(app, "GET", f"/v9/projects/{PROJECT}", headers={})
    assert resp.status == 403
    assert resp.json()["error"]["code"] == "forbidden"
    assert resp.json()["error"]["missingToken"] is True


def test_any_token_is_accepted_unless_one_is_configured(tmp_path: Path, clock: Clock) -> None:
    open_app = make_app(tmp_path / "a", clock)
    assert call(open_app, "GET", f"/v9/projects/{PROJECT}", headers={"Authorization": "Bearer whatever"}).status == 200
    strict = make_app(tmp_path / "b", clock, token="right-token")
    assert call(strict, "GET", f"/v9/projects/{PROJECT}", headers={"Authorization": "Bearer wrong"}).status == 403
    ok = call(strict, "GET", f"/v9/projects/{PROJECT}", headers={"Authorization": "Bearer right-token"})
    assert ok.status == 200


def test_another_teams_id_is_refused_and_enforcement_requires_one(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path / "a", clock)
    assert call(app, "GET", f"/v9/projects/{PROJECT}?teamId=team_someoneelse").status == 403
    assert call(app, "GET", f"/v9/projects/{PROJECT}?teamId=team_aikinklabsandbox").status == 200
    assert call(app, "GET", f"/v9/projects/{PROJECT}").status == 200
    enforced = make_app(tmp_path / "b", clock, enforce_team=True)
    assert call(enforced, "GET", f"/v9/projects/{PROJECT}").status == 403
    assert call(enforced, "GET", f"/v9/projects/{PROJECT}?teamId=team_aikinklabsandbox").status == 200


def test_unknown_routes_and_methods_are_404_not_found(app: SandboxApp) -> None:
    for method, target in [("GET", "/v1/nothing"), ("DELETE", "/v13/deployments/dpl_x"), ("GET", "/v13/deployments")]:
        resp = call(app, method, target)
        assert resp.status == 404
        assert resp.json()["error"]["code"] == "not_found"


# -- files ------------------------------------------------------------------------------------


def test_upload_stores_the_bytes_under_their_sha1(app: SandboxApp) -> None:
    digest = upload(app, b"hello world")
    assert (app.files_dir / digest).read_bytes() == b"hello world"


def test_upload_with_a_digest_that_does_not_match_the_bytes_is_refused(app: SandboxApp) -> None:
    resp = call(app, "POST", "/v2/files", headers={**AUTH, "x-vercel-digest": sha1(b"other")}, raw=b"hello")
    assert resp.status == 400
    assert resp.json()["error"]["code"] == "invalid_digest"
    assert not any(app.files_dir.iterdir())


def test_upload_without_digest_or_with_a_wrong_size_is_refused(app: SandboxApp) -> None:
    assert call(app, "POST", "/v2/files", raw=b"x").json()["error"]["code"] == "missing_digest"
    bad_size = call(
        app,
        "POST",
        "/v2/files",
        headers={**AUTH, "x-vercel-digest": sha1(b"abc"), "Content-Length": "7"},
        raw=b"abc",
    )
    assert bad_size.json()["error"]["code"] == "invalid_file_size"


# -- create -----------------------------------------------------------------------------------


def test_create_refuses_a_field_the_api_does_not_define(app: SandboxApp) -> None:
    digest = upload(app, b"x")
    resp = call(
        app, "POST", "/v13/deployments", {"name": "aikinklab", "files": [{"file": "a", "sha": digest}], "prod": True}
    )
    assert resp.status == 400
    assert resp.json()["error"]["code"] == "bad_request"
    assert "prod" in resp.json()["error"]["message"]


def test_create_names_every_file_that_was_never_uploaded(app: SandboxApp) -> None:
    have = upload(app, b"present")
    lost_a, lost_b = sha1(b"a"), sha1(b"b")
    files = [{"file": "p", "sha": have}, {"file": "a", "sha": lost_a}, {"file": "b", "sha": lost_b}]
    resp = call(app, "POST", "/v13/deployments", {"name": "aikinklab", "files": files})
    assert resp.status == 400
    assert resp.json() == {"error": {"code": "missing_files", "message": "Missing files", "missing": [lost_a, lost_b]}}


def test_create_refuses_paths_that_escape_the_deployment(app: SandboxApp) -> None:
    for name in ("../etc/passwd", "/abs", "a/../../b"):
        resp = call(app, "POST", "/v13/deployments", {"name": "x", "files": [{"file": name, "data": "x"}]})
        assert resp.status == 400, name


def test_create_answers_a_queued_deployment_with_a_vercel_like_identity(app: SandboxApp) -> None:
    dep = deploy(app, meta={"aikinklabDeployKey": "k-123"}, gitMetadata={"commitSha": "abc", "commitRef": "main"})
    assert dep["id"].startswith("dpl_")
    assert dep["url"].startswith("aikinklab-") and dep["url"].endswith("-aikinklab-sandbox.vercel.app")
    assert dep["readyState"] == "QUEUED"
    assert dep["meta"] == {"aikinklabDeployKey": "k-123"}
    assert dep["gitMetadata"]["commitSha"] == "abc"
    assert dep["inspectorUrl"].startswith("https://vercel.com/aikinklab-sandbox/aikinklab/")
    assert dep["aliasAssigned"] is False
    assert dep["target"] is None  # preview


def test_inline_files_are_accepted_and_served(app: SandboxApp, clock: Clock) -> None:
    files = [
        {"file": "index.html", "data": "<p>inline</p>"},
        {"file": "logo.bin", "data": base64.b64encode(b"\x00\x01").decode(), "encoding": "base64"},
    ]
    dep = call(app, "POST", "/v13/deployments", {"name": "aikinklab", "files": files}).json()
    clock.tick(5)
    get(app, dep["id"])
    folder = app.deployment(dep["id"]).folder  # type: ignore[union-attr]
    assert folder is not None
    assert (folder / "index.html").read_text() == "<p>inline</p>"
    assert (folder / "logo.bin").read_bytes() == b"\x00\x01"


def test_redeploy_reuses_the_files_of_an_existing_deployment(app: SandboxApp, clock: Clock) -> None:
    first = deploy(app, {"index.html": b"v1"}, meta={"a": "1"})
    again = call(app, "POST", "/v13/deployments", {"name": "aikinklab", "deploymentId": first["id"]})
    assert again.status == 200
    assert again.json()["meta"] == {"a": "1"}
    assert app.deployment(again.json()["id"]).files == app.deployment(first["id"]).files  # type: ignore[union-attr]


# -- state progression ------------------------------------------------------------------------


def test_a_deployment_moves_queued_building_ready_with_the_clock(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app)
    assert get(app, dep["id"])["readyState"] == "QUEUED"
    clock.tick(1.01)
    building = get(app, dep["id"])
    assert building["readyState"] == "BUILDING"
    assert "buildingAt" in building and "ready" not in building
    clock.tick(1.0)
    ready = get(app, dep["id"])
    assert ready["readyState"] == "READY"
    assert ready["ready"] >= ready["buildingAt"] >= ready["createdAt"]


def test_a_production_build_takes_the_production_domains_when_ready(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app, target="production")
    clock.tick(3)
    ready = get(app, dep["id"])
    assert ready["aliasAssigned"] is True
    assert ready["readySubstate"] == "PROMOTED"
    assert set(ready["alias"]) == {"aikinklab.vercel.app", "www.aikinklab.com"}
    assert app.alias_target("www.aikinklab.com") == dep["id"]


def test_without_auto_assign_a_production_build_is_staged(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, auto_assign_custom_domains=False)
    dep = deploy(app, target="production")
    clock.tick(3)
    ready = get(app, dep["id"])
    assert (ready["readyState"], ready["readySubstate"], ready["aliasAssigned"]) == ("READY", "STAGED", False)
    assert app.alias_target("www.aikinklab.com") is None


def test_build_events_grow_as_the_build_progresses(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app)
    queued = call(app, "GET", f"/v3/deployments/{dep['id']}/events").json()
    clock.tick(3)
    done = call(app, "GET", f"/v3/deployments/{dep['id']}/events").json()
    assert 0 < len(queued) < len(done)
    assert done[-1]["text"] == "Deployment completed"
    assert [e["created"] for e in done] == sorted(e["created"] for e in done)
    backward = call(app, "GET", f"/v3/deployments/{dep['id']}/events?direction=backward&limit=2").json()
    assert backward == list(reversed(done))[:2]


def test_cancel_stops_a_build_but_not_a_finished_one(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app)
    resp = call(app, "PATCH", f"/v12/deployments/{dep['id']}/cancel")
    assert resp.status == 200 and resp.json()["readyState"] == "CANCELED"
    clock.tick(5)
    assert get(app, dep["id"])["readyState"] == "CANCELED"
    finished = deploy(app)
    clock.tick(5)
    again = call(app, "PATCH", f"/v12/deployments/{finished['id']}/cancel")
    assert again.status == 400
    assert again.json()["error"]["code"] == "deployment_not_cancelable"


def test_get_finds_a_deployment_by_url_and_by_alias(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app, target="production")
    clock.tick(3)
    assert get(app, dep["url"])["id"] == dep["id"]
    assert get(app, "www.aikinklab.com")["id"] == dep["id"]
    assert call(app, "GET", "/v13/deployments/dpl_missing").status == 404


# -- faults that shape builds -----------------------------------------------------------------


def test_build_error_fault_ends_the_next_build_in_error(app: SandboxApp, clock: Clock) -> None:
    app.faults.build_error(error_code="BUILD_FAILED", error_message="npm run build exited with 1")
    dep = deploy(app, target="production")
    clock.tick(1.5)
    assert "errorCode" not in get(app, dep["id"])  # still building: no verdict yet
    clock.tick(1)
    failed = get(app, dep["id"])
    assert failed["readyState"] == "ERROR"
    assert (failed["errorCode"], failed["errorMessage"]) == ("BUILD_FAILED", "npm run build exited with 1")
    assert app.alias_target("www.aikinklab.com") is None
    events = call(app, "GET", f"/v3/deployments/{dep['id']}/events").json()
    assert any(e.get("level") == "error" and "npm run build" in e["text"] for e in events)
    nxt = deploy(app)
    clock.tick(3)
    assert get(app, nxt["id"])["readyState"] == "READY"  # the fault was for one build


def test_build_blocked_and_stuck_faults(app: SandboxApp, clock: Clock) -> None:
    app.faults.build_blocked()
    blocked = deploy(app)
    app.faults.build_stuck()
    stuck = deploy(app)
    clock.tick(60)
    assert get(app, blocked["id"])["readyState"] == "BLOCKED"
    assert get(app, stuck["id"])["readyState"] == "BUILDING"
    assert call(app, "PATCH", f"/v12/deployments/{stuck['id']}/cancel").json()["readyState"] == "CANCELED"


def test_missing_files_fault_refuses_the_next_create_only(app: SandboxApp) -> None:
    app.faults.missing_files()
    digest = upload(app, b"content")
    body = {"name": "aikinklab", "files": [{"file": "index.html", "sha": digest}]}
    first = call(app, "POST", "/v13/deployments", body)
    assert first.status == 400
    assert first.json()["error"] == {"code": "missing_files", "message": "Missing files", "missing": [digest]}
    assert call(app, "POST", "/v13/deployments", body).status == 200


def test_rate_limit_storm_answers_429_with_retry_after_then_recovers(app: SandboxApp) -> None:
    app.faults.rate_limit(count=2, retry_after=3)
    answers = [call(app, "GET", f"/v9/projects/{PROJECT}") for _ in range(3)]
    assert [a.status for a in answers] == [429, 429, 200]
    headers = dict(answers[0].headers)
    assert headers["Retry-After"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert answers[0].json()["error"]["code"] == "rate_limited"


def test_server_error_fault_only_hits_the_matching_path(app: SandboxApp) -> None:
    app.faults.server_error(status=503, path=r"^/v7/deployments$", count=None)
    assert call(app, "GET", "/v7/deployments").status == 503
    assert call(app, "GET", "/v7/deployments").status == 503
    assert call(app, "GET", f"/v9/projects/{PROJECT}").status == 200
    app.faults.clear()
    assert call(app, "GET", "/v7/deployments").status == 200


# -- listing ----------------------------------------------------------------------------------


def test_list_pages_with_until_and_never_skips_or_repeats(app: SandboxApp, clock: Clock) -> None:
    created = [deploy(app, meta={"n": str(i)})["id"] for i in range(7)]  # same clock: same millisecond
    seen: list[str] = []
    until: int | None = None
    pages = 0
    while True:
        target = f"/v7/deployments?projectId={PROJECT}&limit=3" + (f"&until={until}" if until else "")
        body = call(app, "GET", target).json()
        seen += [d["uid"] for d in body["deployments"]]
        pages += 1
        assert body["pagination"]["count"] == len(body["deployments"])
        until = body["pagination"]["next"]
        if until is None:
            break
    assert pages == 3
    assert seen == list(reversed(created))


def test_list_filters_by_target_state_branch_and_sha(app: SandboxApp, clock: Clock) -> None:
    prod = deploy(app, target="production", gitMetadata={"commitSha": "s1", "commitRef": "main"})
    preview = deploy(app, gitMetadata={"commitSha": "s2", "commitRef": "feature"})
    clock.tick(3)
    app.faults.build_stuck()
    building = deploy(app)
    clock.tick(1.5)

    def ids(query: str) -> list[str]:
        return [d["uid"] for d in call(app, "GET", f"/v7/deployments?{query}").json()["deployments"]]

    assert ids("target=production") == [prod["id"]]
    assert ids("target=preview") == [building["id"], preview["id"]]
    assert ids("state=BUILDING") == [building["id"]]
    assert ids("state=READY,BUILDING") == [building["id"], preview["id"], prod["id"]]
    assert ids("branch=feature") == [preview["id"]]
    assert ids("sha=s1") == [prod["id"]]
    assert ids("rollbackCandidate=true") == [prod["id"]]
    assert ids("projectId=aikinklab") == ids(f"projectId={PROJECT}")


def test_list_refuses_an_out_of_range_limit(app: SandboxApp) -> None:
    assert call(app, "GET", "/v7/deployments?limit=0").status == 400
    assert call(app, "GET", "/v7/deployments?limit=101").status == 400
    assert call(app, "GET", "/v7/deployments?limit=ten").status == 400


# -- aliases ----------------------------------------------------------------------------------


def test_alias_moves_between_deployments_and_names_the_old_one(app: SandboxApp, clock: Clock) -> None:
    one, two = deploy(app), deploy(app)
    clock.tick(3)
    first = call(app, "POST", f"/v2/deployments/{one['id']}/aliases", {"alias": "staging.aikinklab.com"})
    assert first.status == 200
    assert first.json()["oldDeploymentId"] is None
    second = call(app, "POST", f"/v2/deployments/{two['id']}/aliases", {"alias": "staging.aikinklab.com"})
    assert second.json()["oldDeploymentId"] == one["id"]
    assert second.json()["uid"] == first.json()["uid"]
    assert app.alias_target("staging.aikinklab.com") == two["id"]
    assert "staging.aikinklab.com" not in get(app, one["id"])["alias"]


def test_alias_refusals(app: SandboxApp, clock: Clock) -> None:
    queued = deploy(app)
    resp = call(app, "POST", f"/v2/deployments/{queued['id']}/aliases", {"alias": "a.example.com"})
    assert (resp.status, resp.json()["error"]["code"]) == (400, "deployment_not_ready")
    clock.tick(3)
    bad = call(app, "POST", f"/v2/deployments/{queued['id']}/aliases", {"alias": "not a host"})
    assert (bad.status, bad.json()["error"]["code"]) == (400, "invalid_alias")
    call(app, "POST", f"/v2/deployments/{queued['id']}/aliases", {"alias": "a.example.com"})
    twice = call(app, "POST", f"/v2/deployments/{queued['id']}/aliases", {"alias": "a.example.com"})
    assert (twice.status, twice.json()["error"]["code"]) == (409, "alias_already_assigned")
    other = deploy(app, project="another-project", name="another-project")
    clock.tick(3)
    taken = call(app, "POST", f"/v2/deployments/{other['id']}/aliases", {"alias": "a.example.com"})
    assert (taken.status, taken.json()["error"]["code"]) == (409, "alias_in_use")


# -- promote and rollback ---------------------------------------------------------------------


def _staged_pair(tmp_path: Path, clock: Clock) -> tuple[SandboxApp, str, str]:
    app = make_app(tmp_path, clock)
    live = deploy(app, target="production")["id"]
    clock.tick(3)
    assert get(app, live)["readySubstate"] == "PROMOTED"
    app.configure_project(auto_assign=False)
    staged = deploy(app, target="production")["id"]
    clock.tick(3)
    return app, live, staged


def test_promote_moves_the_production_domains_and_records_the_request(tmp_path: Path, clock: Clock) -> None:
    app, live, staged = _staged_pair(tmp_path, clock)
    assert app.alias_target("www.aikinklab.com") == live
    resp = call(app, "POST", f"/v10/projects/{PROJECT}/promote/{staged}")
    assert resp.status == 201
    assert app.alias_target("www.aikinklab.com") == staged
    project = call(app, "GET", f"/v9/projects/{PROJECT}").json()
    assert project["lastAliasRequest"]["jobStatus"] == "succeeded"
    assert project["lastAliasRequest"]["fromDeploymentId"] == live
    assert project["lastAliasRequest"]["toDeploymentId"] == staged
    assert project["targets"]["production"]["id"] == staged


def test_promote_conflicts(tmp_path: Path, clock: Clock) -> None:
    app, live, _ = _staged_pair(tmp_path, clock)
    again = call(app, "POST", f"/v10/projects/{PROJECT}/promote/{live}")
    assert (again.status, again.json()["error"]["code"]) == (409, "deployment_already_current")
    building = deploy(app, target="production")["id"]
    early = call(app, "POST", f"/v10/projects/{PROJECT}/promote/{building}")
    assert (early.status, early.json()["error"]["code"]) == (409, "deployment_not_ready")
    assert call(app, "POST", f"/v10/projects/{PROJECT}/promote/dpl_nope").status == 404


def test_queued_promote_reports_its_job_and_moves_domains_only_on_success(tmp_path: Path, clock: Clock) -> None:
    app, live, staged = _staged_pair(tmp_path, clock)
    app.faults.promote_queued(outcome="succeeded", delay=1.0)
    assert call(app, "POST", f"/v10/projects/{PROJECT}/promote/{staged}").status == 202

    def status() -> str:
        return str(call(app, "GET", f"/v9/projects/{PROJECT}").json()["lastAliasRequest"]["jobStatus"])

    assert status() == "pending"
    assert app.alias_target("www.aikinklab.com") == live
    clock.tick(1.0)
    assert status() == "in-progress"
    assert call(app, "POST", f"/v10/projects/{PROJECT}/promote/{staged}").status == 409
    clock.tick(1.0)
    assert status() == "succeeded"
    assert app.alias_target("www.aikinklab.com") == staged


def test_queued_promote_that_fails_leaves_production_alone(tmp_path: Path, clock: Clock) -> None:
    app, live, staged = _staged_pair(tmp_path, clock)
    app.faults.promote_queued(outcome="failed", delay=0.5)
    assert call(app, "POST", f"/v10/projects/{PROJECT}/promote/{staged}").status == 202
    clock.tick(1.0)
    project = call(app, "GET", f"/v9/projects/{PROJECT}").json()
    assert project["lastAliasRequest"]["jobStatus"] == "failed"
    assert app.alias_target("www.aikinklab.com") == live


def test_rollback_returns_production_to_a_previous_deployment(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock)
    old = deploy(app, target="production")["id"]
    clock.tick(3)
    new = deploy(app, target="production")["id"]
    clock.tick(3)
    assert app.alias_target("www.aikinklab.com") == new
    resp = call(app, "POST", f"/v1/projects/{PROJECT}/rollback/{old}?description=bad+release")
    assert resp.status == 201
    assert app.alias_target("www.aikinklab.com") == old
    project = call(app, "GET", f"/v9/projects/{PROJECT}").json()
    assert project["lastAliasRequest"]["type"] == "rollback"
    assert project["lastRollbackTarget"]["description"] == "bad release"
    # Like Vercel: while rolled back, a new production build does not take the domains by itself.
    newer = deploy(app, target="production")["id"]
    clock.tick(3)
    assert get(app, newer)["readySubstate"] == "STAGED"
    assert app.alias_target("www.aikinklab.com") == old
    assert call(app, "POST", f"/v10/projects/{PROJECT}/promote/{newer}").status == 201
    assert call(app, "GET", f"/v9/projects/{PROJECT}").json()["lastRollbackTarget"] is None


def test_rollback_refusals(tmp_path: Path, clock: Clock) -> None:
    app, live, staged = _staged_pair(tmp_path, clock)
    current = call(app, "POST", f"/v1/projects/{PROJECT}/rollback/{live}")
    assert (current.status, current.json()["error"]["code"]) == (409, "deployment_already_current")
    never_live = call(app, "POST", f"/v1/projects/{PROJECT}/rollback/{staged}")
    assert (never_live.status, never_live.json()["error"]["code"]) == (422, "not_rollback_candidate")


def test_update_description_only_for_the_current_rollback(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock)
    old = deploy(app, target="production")["id"]
    clock.tick(3)
    new = deploy(app, target="production")["id"]
    clock.tick(3)
    path = f"/v1/projects/{PROJECT}/rollback/{old}/update-description"
    assert call(app, "PATCH", path, {"description": "x"}).status == 404
    call(app, "POST", f"/v1/projects/{PROJECT}/rollback/{old}")
    assert call(app, "PATCH", path, {"description": "broken checkout"}).status == 200
    assert call(app, "GET", f"/v9/projects/{PROJECT}").json()["lastRollbackTarget"]["description"] == "broken checkout"
    assert call(app, "PATCH", f"/v1/projects/{PROJECT}/rollback/{new}/update-description", {}).status == 404


# -- projects ---------------------------------------------------------------------------------


def test_projects_are_created_on_first_use_unless_disabled(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path / "a", clock)
    first = call(app, "GET", "/v9/projects/my-site").json()
    assert first["name"] == "my-site" and first["id"].startswith("prj_")
    assert call(app, "GET", f"/v9/projects/{first['id']}").json()["id"] == first["id"]
    closed = make_app(tmp_path / "b", clock, auto_create_projects=False)
    assert call(closed, "GET", "/v9/projects/my-site").status == 404
    assert call(closed, "GET", f"/v9/projects/{PROJECT}").status == 200


def test_env_lists_names_and_targets_never_values(app: SandboxApp) -> None:
    body = call(app, "GET", f"/v10/projects/{PROJECT}/env?decrypt=true").json()
    keys = {e["key"] for e in body["envs"]}
    assert {"DATABASE_URL", "NEXT_PUBLIC_SITE_URL"} <= keys
    assert all("value" not in e for e in body["envs"])
    assert body["pagination"]["count"] == len(body["envs"])


def test_the_deprecated_x_now_digest_header_is_still_accepted(app: SandboxApp) -> None:
    resp = call(app, "POST", "/v2/files", headers={**AUTH, "x-now-digest": sha1(b"old")}, raw=b"old")
    assert resp.status == 200
    assert (app.files_dir / sha1(b"old")).exists()


def test_missing_files_fault_can_name_the_lost_shas(app: SandboxApp) -> None:
    kept, lost = upload(app, b"kept"), upload(app, b"lost")
    app.faults.missing_files(shas=[lost])
    files = [{"file": "a", "sha": kept}, {"file": "b", "sha": lost}]
    resp = call(app, "POST", "/v13/deployments", {"name": "aikinklab", "files": files})
    assert resp.json()["error"]["missing"] == [lost]


def test_staging_custom_environment_and_branch_builds_get_their_aliases(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, environment_aliases={"qa": ("qa.aikinklab.com",)})
    staging = deploy(app, target="staging")
    custom = deploy(app, customEnvironmentSlugOrId="qa")
    branch = deploy(app, gitMetadata={"commitRef": "feature/Login"})
    clock.tick(3)
    assert get(app, staging["id"])["target"] == "staging"
    assert app.alias_target("aikinklab-aikinklab-sandbox.vercel.app") == staging["id"]
    qa = get(app, custom["id"])
    assert qa["target"] is None and qa["customEnvironment"]["slug"] == "qa"
    assert app.alias_target("qa.aikinklab.com") == custom["id"]
    assert app.alias_target("aikinklab-git-feature-login-aikinklab-sandbox.vercel.app") == branch["id"]
    assert app.alias_target("www.aikinklab.com") is None  # none of them is production


def test_events_can_be_cut_by_time(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app)
    clock.tick(3)
    everything = call(app, "GET", f"/v3/deployments/{dep['id']}/events").json()
    middle = everything[len(everything) // 2]["created"]
    later = call(app, "GET", f"/v3/deployments/{dep['id']}/events?since={middle}").json()
    earlier = call(app, "GET", f"/v3/deployments/{dep['id']}/events?until={middle}").json()
    assert later and all(e["created"] >= middle for e in later)
    assert earlier and all(e["created"] <= middle for e in earlier)
    assert call(app, "GET", f"/v3/deployments/{dep['id']}/events?follow=2").status == 400
    assert call(app, "GET", "/v3/deployments/dpl_nope/events").status == 404


def test_env_can_be_filtered_by_git_branch(tmp_path: Path, clock: Clock) -> None:
    from aikinklab_ops.sandbox import EnvVar

    variables = (EnvVar("ALL", ("preview",)), EnvVar("ONLY_FEATURE", ("preview",), git_branch="feature"))
    app = make_app(tmp_path, clock, env_vars=variables)
    keys = {e["key"] for e in call(app, "GET", f"/v10/projects/{PROJECT}/env?gitBranch=main").json()["envs"]}
    assert keys == {"ALL"}
    keys = {e["key"] for e in call(app, "GET", f"/v10/projects/{PROJECT}/env?gitBranch=feature").json()["envs"]}
    assert keys == {"ALL", "ONLY_FEATURE"}


def test_an_encoded_url_as_deployment_reference_is_decoded_after_routing(app: SandboxApp, clock: Clock) -> None:
    dep = deploy(app)
    encoded = "https%3A%2F%2F" + dep["url"]
    assert get(app, encoded)["id"] == dep["id"]


def test_a_fractional_retry_after_is_sent_as_whole_seconds(app: SandboxApp) -> None:
    app.faults.rate_limit(count=1, retry_after=0.2)
    resp = call(app, "GET", f"/v9/projects/{PROJECT}")
    assert dict(resp.headers)["Retry-After"] == "1"


def test_list_filters_by_app_project_ids_and_users(app: SandboxApp, clock: Clock) -> None:
    mine = deploy(app)
    other = deploy(app, project="docs-site", name="docs-site")
    other_project = app.project("docs-site")
    assert other_project is not None

    def ids(query: str) -> list[str]:
        resp = call(app, "GET", f"/v7/deployments?{query}")
        assert resp.status == 200, resp.body
        return [d["uid"] for d in resp.json()["deployments"]]

    assert ids("app=docs-site") == [other["id"]]
    assert ids(f"projectIds={PROJECT}&projectIds={other_project.id}") == [other["id"], mine["id"]]
    assert ids("users=sandbox-user") == [other["id"], mine["id"]]
    assert ids("users=someone-else") == []
    assert call(app, "GET", f"/v7/deployments?projectId={PROJECT}&projectIds={PROJECT}").status == 400


def test_enforced_team_also_accepts_the_team_slug(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, enforce_team=True)
    assert call(app, "GET", f"/v9/projects/{PROJECT}?slug=aikinklab-sandbox").status == 200
    assert call(app, "GET", f"/v9/projects/{PROJECT}?slug=another-team").status == 403
