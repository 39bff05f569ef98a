"""A deployment named on the command line that does not exist is bad input (exit 2), and a
promote that fails or times out says what to do next."""

from __future__ import annotations

import pytest
from vercel_fake_api import PROJECT, FakeClock, FakeVercel, deployment, error, project

from aikinklab_ops.deploy import PollPolicy, promote, rollback
from aikinklab_ops.errors import UsageError
from aikinklab_ops.vercel import VercelClient

POLL = PollPolicy((1.0,), 1)
PROJ = f"/v9/projects/{PROJECT}"


def test_promote_of_an_unknown_deployment_is_refused_as_bad_input(
    fake: FakeVercel, client: VercelClient, clock: FakeClock
) -> None:
    fake.add("GET", "/v13/deployments/dpl_typo", status=404, json_body=error("not_found", "Deployment not found"))
    with pytest.raises(UsageError) as info:
        promote(client, "dpl_typo", poll=POLL, timeout_s=5, sleep=clock.sleep, clock=clock)
    assert info.value.exit_code == 2
    assert "dpl_typo" in str(info.value) and "deployments list" in (info.value.hint or "")


def test_rollback_to_an_unknown_deployment_is_refused_as_bad_input(
    fake: FakeVercel, client: VercelClient, clock: FakeClock
) -> None:
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("GET", "/v13/deployments/dpl_cur", json_body=deployment("dpl_cur", target="production", projectId=PROJECT))
    fake.add("GET", "/v13/deployments/dpl_typo", status=404, json_body=error("not_found", "Deployment not found"))
    with pytest.raises(UsageError) as info:
        rollback(client, to="dpl_typo", poll=POLL, timeout_s=5, sleep=clock.sleep, clock=clock)
    assert info.value.exit_code == 2 and "dpl_typo" in str(info.value)
    assert fake.calls_to("POST", r"/v1/projects/.*/rollback/") == []


@pytest.mark.parametrize(("status", "words"), [("failed", "still serves dpl_cur"), ("timeout", "may still")])
def test_a_queued_promote_that_does_not_succeed_says_what_to_do(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, status: str, words: str
) -> None:
    fake.add("GET", "/v13/deployments/dpl_new", json_body=deployment("dpl_new", target="production", projectId=PROJECT))
    fake.add("GET", PROJ, json_body=project("dpl_cur"))
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_new", status=202)
    job = {"fromDeploymentId": "dpl_cur", "toDeploymentId": "dpl_new", "requestedAt": 1, "type": "promote"}
    job["jobStatus"] = "failed" if status == "failed" else "pending"
    fake.add("GET", PROJ, json_body=project("dpl_cur", last_alias=job))
    result = promote(client, "dpl_new", poll=POLL, timeout_s=1, sleep=clock.sleep, clock=clock)
    assert not result.ok and result.outcome == status
    assert words in result.message and "aikinklab-ops" in result.message
