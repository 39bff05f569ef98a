"""promote() and rollback() against contract-checked mocks."""

from __future__ import annotations

import pytest
from vercel_fake_api import PROJECT, FakeClock, FakeVercel, deployment, list_item, listing, project

from aikinklab_ops.deploy import PollPolicy, promote, rollback
from aikinklab_ops.errors import CheckFailed, UsageError
from aikinklab_ops.vercel import REQUEST_KEY, VercelClient

POLL = PollPolicy((1.0,), 1)
PROJ = f"/v9/projects/{PROJECT}"


def _promote(client: VercelClient, clock: FakeClock, dep: str = "dpl_new", **kw):  # type: ignore[no-untyped-def]
    return promote(client, dep, poll=POLL, timeout_s=10, sleep=clock.sleep, clock=clock, **kw)


def _job(status: str, to: str = "dpl_new") -> dict[str, object]:
    return {
        "fromDeploymentId": "dpl_cur",
        "toDeploymentId": to,
        "jobStatus": status,
        "requestedAt": 1,
        "type": "promote",
    }


def test_promote_201(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=201)
    result = _promote(client, clock)
    assert result.ok and result.outcome == "promoted" and result.previous_deployment_id == "dpl_cur"


def test_promote_by_url(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add(
        "GET",
        "/v13/deployments/aikinklab-new.vercel.app",
        json_body=deployment("dpl_new", target="production", projectId=PROJECT),
    )
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=201)
    assert _promote(client, clock, "https://aikinklab-new.vercel.app").deployment_id == "dpl_new"


def test_already_current_is_success_without_a_promote(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_new"))
    result = _promote(client, clock)
    assert result.ok and result.outcome == "already-current"
    assert fake.calls_to("POST", r"/v10/.*") == []


def test_queued_promote_is_followed_until_it_succeeds(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=202)
    fake.add("GET", PROJ, json_body=project("dpl_cur", last_alias=_job("pending")))
    fake.add("GET", PROJ, json_body=project("dpl_cur", last_alias=_job("in-progress")))
    fake.add("GET", PROJ, json_body=project("dpl_new", last_alias=_job("succeeded")))
    seen: list[str] = []
    result = _promote(client, clock, log=seen.append)
    assert result.ok and result.outcome == "promoted"
    assert "promote: pending" in seen and "promote: succeeded" in seen


@pytest.mark.parametrize("final", ["failed", "skipped"])
def test_queued_promote_that_fails(final: str, fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=202)
    fake.add("GET", PROJ, json_body=project("dpl_cur", last_alias=_job(final)))
    result = _promote(client, clock)
    assert not result.ok and result.outcome == "failed" and final in result.message


def test_queued_promote_times_out(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=202)
    fake.add("GET", PROJ, json_body=project("dpl_cur", last_alias=_job("in-progress")))
    result = _promote(client, clock)
    assert not result.ok and result.outcome == "timeout"
    assert clock.now == pytest.approx(10.0)


def test_not_ready_is_refused(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add(
        "GET",
        "/v13/deployments/dpl_new",
        json_body=deployment("dpl_new", state="BUILDING", target="production", projectId=PROJECT),
    )
    with pytest.raises(UsageError, match="BUILDING, not READY"):
        _promote(client, clock)
    assert fake.calls_to("POST", r".*") == []


def test_another_projects_deployment_is_refused(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add(
        "GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId="prj_other")
    )
    with pytest.raises(UsageError, match="belongs to prj_other"):
        _promote(client, clock)


def test_project_checked_through_the_list_when_get_does_not_say(
    fake: FakeVercel, client: VercelClient, clock: FakeClock
) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production"))
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_x")]))
    with pytest.raises(UsageError, match="another project"):
        _promote(client, clock)


def test_preview_needs_rebuild(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target=None, projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    with pytest.raises(UsageError, match="preview deployment") as info:
        _promote(client, clock)
    assert "--rebuild" in (info.value.hint or "")
    assert fake.calls_to("POST", r".*") == []


def test_preview_with_rebuild_builds_for_production(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target=None, projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_prod", state="BUILDING", target="production"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_prod",
        json_body=deployment("dpl_prod", state="READY", target="production", alias_assigned=True),
    )
    result = _promote(client, clock, rebuild=True)
    assert result.ok and result.outcome == "rebuilt" and result.new_deployment_id == "dpl_prod"
    body = fake.calls_to("POST", "/v13/deployments")[0].json()
    assert body["deploymentId"] == "dpl_new" and body["target"] == "production" and body["meta"][REQUEST_KEY]


# -- rollback ------------------------------------------------------------------------------------


def _history(fake: FakeVercel) -> None:
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_cur",
        json_body=deployment("dpl_cur", target="production", created=5000, projectId=PROJECT),
    )
    fake.add(
        "GET",
        "/v7/deployments",
        json_body=listing(
            [
                list_item("dpl_newer", created=6000),
                list_item("dpl_cur", created=5000),
                list_item("dpl_staged", created=4000, substate="STAGED"),
                list_item("dpl_broken", created=3500, state="ERROR", substate=None),
            ],
            next_=3000,
        ),
    )
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_good", created=3000, candidate=True)]))
    fake.add(
        "GET",
        "/v13/deployments/dpl_good",
        json_body=deployment("dpl_good", target="production", created=3000, projectId=PROJECT),
    )


def test_rollback_picks_the_last_deployment_that_served_production(
    fake: FakeVercel, client: VercelClient, clock: FakeClock
) -> None:
    _history(fake)
    fake.add("POST", f"/v1/projects/{PROJECT}/rollback/dpl_good", status=201)
    fake.add(
        "GET", PROJ, json_body=project("dpl_good", last_alias={**_job("succeeded", "dpl_good"), "type": "rollback"})
    )
    result = rollback(client, PROJECT, reason="p0 incident", poll=POLL, sleep=clock.sleep, clock=clock)
    assert result.ok and result.performed
    assert (result.from_deployment, result.to_deployment) == ("dpl_cur", "dpl_good")
    call = fake.calls_to("POST", f"/v1/projects/{PROJECT}/rollback/dpl_good")[0]
    assert call.params["description"] == "p0 incident"
    assert fake.calls_to("GET", "/v7/deployments")[0].params["target"] == "production"


def test_dry_run_changes_nothing(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    _history(fake)
    result = rollback(client, PROJECT, dry_run=True, poll=POLL, sleep=clock.sleep, clock=clock)
    assert result.ok and result.dry_run and not result.performed and result.to_deployment == "dpl_good"
    assert fake.calls_to("POST", r".*") == []


def test_no_candidate_is_a_clear_failure(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_cur",
        json_body=deployment("dpl_cur", target="production", created=5000, projectId=PROJECT),
    )
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_cur", created=5000)]))
    with pytest.raises(CheckFailed, match="nothing to roll back to") as info:
        rollback(client, PROJECT, poll=POLL, sleep=clock.sleep, clock=clock)
    assert "--to" in (info.value.hint or "")


def test_no_production_at_all(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", PROJ, json_body=project(None))
    with pytest.raises(CheckFailed, match="no current production deployment"):
        rollback(client, PROJECT, poll=POLL, sleep=clock.sleep, clock=clock)


def test_rollback_to_a_preview_is_refused(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("GET", "/v13/deployments/dpl_cur", json_body=deployment("dpl_cur", target="production", projectId=PROJECT))
    fake.add("GET", "/v13/deployments/dpl_pr", json_body=deployment("dpl_pr", target=None, projectId=PROJECT))
    with pytest.raises(UsageError, match="preview deployment"):
        rollback(client, PROJECT, to="dpl_pr", poll=POLL, sleep=clock.sleep, clock=clock)


def test_rollback_to_current_is_a_no_op(fake: FakeVercel, client: VercelClient, clock: FakeClock) -> None:
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("GET", "/v13/deployments/dpl_cur", json_body=deployment("dpl_cur", target="production", projectId=PROJECT))
    result = rollback(client, PROJECT, to="dpl_cur", poll=POLL, sleep=clock.sleep, clock=clock)
    assert result.ok and not result.performed and "already" in result.message
    assert fake.calls_to("POST", r".*") == []
