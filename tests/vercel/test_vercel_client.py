"""VercelClient against contract-checked mocks: scoping, errors, retries, no duplicate creates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from vercel_fake_api import PROJECT, TEAM, TOKEN, FakeVercel, deployment, error, list_item, listing

from aikinklab_ops.errors import UsageError
from aikinklab_ops.http import make_session
from aikinklab_ops.vercel import REQUEST_KEY, VercelApiError, VercelClient, VercelTransportError


def _body(key: str = "k1") -> dict[str, object]:
    return {"name": "aikinklab", "project": PROJECT, "files": [], "meta": {REQUEST_KEY: key}}


def test_every_call_carries_team_and_bearer_token(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("GET", "/v13/deployments/aikinklab-x.vercel.app", json_body=deployment("dpl_1"))
    fake.add("GET", "/v13/deployments/dpl_1", json_body=deployment("dpl_1"))
    fake.add("GET", f"/v9/projects/{PROJECT}", json_body={"id": PROJECT, "name": "aikinklab"})
    client.get_deployment("https://aikinklab-x.vercel.app/")
    client.get_deployment("dpl_1")
    client.get_project()
    assert fake.calls[0].path == "/v13/deployments/aikinklab-x.vercel.app"
    for call in fake.calls[1:]:
        assert call.params["teamId"] == TEAM
        assert call.headers["Authorization"] == f"Bearer {TOKEN}"


def test_without_team_no_team_id_is_sent(fake: FakeVercel) -> None:
    fake.add("GET", "/v13/deployments/dpl_1", json_body=deployment("dpl_1"))
    VercelClient(make_session(retries=0), TOKEN, project_id=PROJECT).get_deployment("dpl_1")
    assert "teamId" not in fake.calls[0].params


def test_missing_project_id_names_the_variable(fake: FakeVercel) -> None:
    c = VercelClient(make_session(retries=0), TOKEN)
    with pytest.raises(UsageError) as info:
        c.get_project()
    assert "VERCEL_PROJECT_ID" in str(info.value)
    assert fake.calls == []


def test_missing_token_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="VERCEL_TOKEN"):
        VercelClient(make_session(retries=0), "")


def test_forbidden_without_team_hints_at_org_id(fake: FakeVercel) -> None:
    fake.add("GET", f"/v9/projects/{PROJECT}", status=403, json_body=error("forbidden", "Not authorized"))
    c = VercelClient(make_session(retries=0), TOKEN, project_id=PROJECT)
    with pytest.raises(VercelApiError) as info:
        c.get_project()
    err = info.value
    assert err.status == 403 and err.code == "forbidden"
    assert "set VERCEL_ORG_ID to the team id" in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(c)


class _RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[object] = []

    def request(self, method, url, **kw):  # type: ignore[no-untyped-def,override]
        self.bodies.append(kw.get("data"))
        return super().request(method, url, **kw)


def test_upload_streams_the_file_with_digest_and_length(fake: FakeVercel, tmp_path: Path) -> None:
    f = tmp_path / "a.js"
    f.write_bytes(b"console.log(1)\n" * 100)
    sha = hashlib.sha1(f.read_bytes()).hexdigest()
    fake.add("POST", "/v2/files", json_body={})
    session = _RecordingSession()
    VercelClient(session, TOKEN, team_id=TEAM, project_id=PROJECT).upload_file(f, sha, f.stat().st_size)
    call = fake.calls[0]
    assert hasattr(session.bodies[0], "read"), "the body must be the open file, not bytes read into memory"
    assert call.body == f.read_bytes()
    assert call.headers["x-vercel-digest"] == sha
    assert call.headers["Content-Length"] == str(f.stat().st_size)
    assert call.headers["Content-Type"] == "application/octet-stream"


def test_upload_is_retried_per_file_on_5xx_and_dropped_connections(
    fake: FakeVercel, client: VercelClient, sleeps: list[float], tmp_path: Path
) -> None:
    f = tmp_path / "a.js"
    f.write_bytes(b"x")
    fake.add("POST", "/v2/files", status=503, json_body=error("internal", "busy"), headers={"Retry-After": "3"})
    fake.add("POST", "/v2/files", raise_error=requests.exceptions.ConnectionError("Connection aborted."))
    fake.add("POST", "/v2/files", json_body={})
    client.upload_file(f, hashlib.sha1(b"x").hexdigest(), 1)
    assert len(fake.calls) == 3
    assert sleeps[0] == 3.0, "Retry-After is honoured"
    assert all(c.body == b"x" for c in fake.calls), "every attempt sends the whole file again"


def test_upload_gives_up_after_its_attempts(fake: FakeVercel, client: VercelClient, tmp_path: Path) -> None:
    f = tmp_path / "a.js"
    f.write_bytes(b"x")
    fake.add("POST", "/v2/files", status=500, json_body=error("internal_server_error", "boom"))
    with pytest.raises(VercelApiError) as info:
        client.upload_file(f, hashlib.sha1(b"x").hexdigest(), 1)
    assert len(fake.calls) == client.upload_attempts
    assert "vercel-status" in str(info.value)


def test_upload_4xx_is_not_retried(fake: FakeVercel, client: VercelClient, tmp_path: Path) -> None:
    f = tmp_path / "a.js"
    f.write_bytes(b"x")
    fake.add("POST", "/v2/files", status=400, json_body=error("invalid_digest", "Digest is not valid"))
    with pytest.raises(VercelApiError, match="invalid_digest"):
        client.upload_file(f, "0" * 40, 1)
    assert len(fake.calls) == 1


def test_create_answer_lost_then_found_by_its_key_is_not_created_twice(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("POST", "/v13/deployments", raise_error=requests.exceptions.ReadTimeout("read timed out"))
    fake.add(
        "GET",
        "/v7/deployments",
        json_body=listing(
            [list_item("dpl_other", meta={REQUEST_KEY: "nope"}), list_item("dpl_mine", meta={REQUEST_KEY: "k1"})]
        ),
    )
    fake.add("GET", "/v13/deployments/dpl_mine", json_body=deployment("dpl_mine", state="BUILDING"))
    dep = client.create_deployment(_body("k1"))
    assert dep["id"] == "dpl_mine"
    assert len(fake.calls_to("POST", "/v13/deployments")) == 1
    listed = fake.calls_to("GET", "/v7/deployments")[0]
    assert listed.params["projectId"] == PROJECT and "since" in listed.params


def test_create_5xx_not_found_is_sent_again(fake: FakeVercel, client: VercelClient, sleeps: list[float]) -> None:
    fake.add("POST", "/v13/deployments", status=500, json_body=error("internal_server_error", "oops"))
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_new", state="QUEUED"))
    fake.add("GET", "/v7/deployments", json_body=listing([]))
    dep = client.create_deployment(_body())
    assert dep["id"] == "dpl_new"
    methods = [(c.method, c.path) for c in fake.calls]
    assert methods == [
        ("POST", "/v13/deployments"),
        ("GET", "/v7/deployments"),
        ("POST", "/v13/deployments"),
    ], "the lookup happens before the retry"
    assert sleeps, "a backoff separates the attempts"


def test_create_refused_before_sending_is_retried_without_duplicates(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("POST", "/v13/deployments", raise_error=requests.exceptions.ConnectTimeout("connect timed out"))
    fake.add("GET", "/v7/deployments", json_body=listing([]))
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_new", state="QUEUED"))
    assert client.create_deployment(_body())["id"] == "dpl_new"


def test_create_4xx_is_raised_at_once(fake: FakeVercel, client: VercelClient) -> None:
    fake.add(
        "POST", "/v13/deployments", status=400, json_body=error("missing_files", "Missing files", missing=["a" * 40])
    )
    with pytest.raises(VercelApiError) as info:
        client.create_deployment(_body())
    assert info.value.code == "missing_files" and info.value.missing == ("a" * 40,)
    assert len(fake.calls) == 1


def test_create_needs_a_request_key(client: VercelClient) -> None:
    with pytest.raises(ValueError, match=REQUEST_KEY):
        client.create_deployment({"name": "x"})


def test_create_gives_up_with_the_transport_error(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("POST", "/v13/deployments", raise_error=requests.exceptions.ConnectionError("Connection aborted."))
    fake.add("GET", "/v7/deployments", json_body=listing([]))
    with pytest.raises(VercelTransportError) as info:
        client.create_deployment(_body())
    assert info.value.maybe_processed
    assert len(fake.calls_to("POST", "/v13/deployments")) == client.create_attempts
    assert TOKEN not in str(info.value)


def test_list_follows_pagination_next_as_until(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_a"), list_item("dpl_b")], next_=1234))
    fake.add("GET", "/v7/deployments", json_body=listing([list_item("dpl_c")], next_=None))
    got = [d["uid"] for d in client.list_deployments(target="production", state="READY", limit=2)]
    assert got == ["dpl_a", "dpl_b", "dpl_c"]
    first, second = fake.calls
    assert first.params == {
        "projectId": PROJECT,
        "limit": "2",
        "target": "production",
        "state": "READY",
        "teamId": TEAM,
    }
    assert second.params["until"] == "1234"


def test_events_come_back_oldest_first(fake: FakeVercel, client: VercelClient) -> None:
    ev = [
        {
            "type": "stdout",
            "created": 3,
            "payload": {"date": 3, "deploymentId": "dpl_1", "id": "3", "serial": "3", "text": "c"},
        },
        {
            "type": "stdout",
            "created": 1,
            "payload": {"date": 1, "deploymentId": "dpl_1", "id": "1", "serial": "1", "text": "a"},
        },
    ]
    fake.add("GET", "/v3/deployments/dpl_1/events", json_body=ev)
    assert [e["payload"]["text"] for e in client.get_events("dpl_1")] == ["a", "c"]


def test_promote_and_rollback_paths(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("POST", f"/v10/projects/{PROJECT}/promote/dpl_1", status=202)
    fake.add("POST", f"/v1/projects/{PROJECT}/rollback/dpl_0", status=201)
    assert client.promote("dpl_1") == 202
    assert client.rollback("dpl_0", description="bad release") == 201
    assert fake.calls[1].params["description"] == "bad release"


def test_alias_in_use_tells_what_to_change(fake: FakeVercel, client: VercelClient) -> None:
    fake.add(
        "POST",
        "/v2/deployments/dpl_1/aliases",
        status=409,
        json_body=error("alias_in_use", "The alias is already in use"),
    )
    with pytest.raises(VercelApiError) as info:
        client.assign_alias("dpl_1", "staging.aikinklab.com")
    assert info.value.code == "alias_in_use"
    assert "environments.<env>.aliases" in str(info.value)
    assert fake.calls[0].json() == {"alias": "staging.aikinklab.com"}


def test_cancel(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("PATCH", "/v12/deployments/dpl_1/cancel", json_body=deployment("dpl_1", state="CANCELED"))
    assert client.cancel_deployment("dpl_1")["readyState"] == "CANCELED"


def test_a_non_json_answer_is_an_api_error(fake: FakeVercel, client: VercelClient, mocked_api) -> None:  # type: ignore[no-untyped-def]
    mocked_api.add("GET", "https://api.vercel.com/v13/deployments/dpl_1", body="<html>proxy</html>", status=200)
    with pytest.raises(VercelApiError, match="not JSON"):
        client.get_deployment("dpl_1")
