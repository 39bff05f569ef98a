"""The sandbox over real loopback HTTP: serving, aliases switching, faults, control plane, contract."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from vercel_contract import assert_traffic_fits

from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.site.localca import LocalCA, server_context

VERCEL_JSON = {
    "cleanUrls": True,
    "headers": [{"source": "/(.*)", "headers": [{"key": "X-Frame-Options", "value": "DENY"}]}],
    "redirects": [{"source": "/old", "destination": "/about", "permanent": True}],
    "rewrites": [{"source": "/app/:path*", "destination": "/index.html"}],
}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(build_delay=0.01, queue_delay=0.005) as sandbox:
        yield sandbox


class Client:
    """Just enough of a Vercel client to drive scenarios (the real one lives in aikinklab_ops.vercel)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.base = sb.api_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {sb.token}"
        self.team = {"teamId": sb.settings.team_id}

    def upload(self, data: bytes) -> str:
        sha = hashlib.sha1(data).hexdigest()
        resp = self.session.post(
            f"{self.base}/v2/files", data=data, headers={"x-vercel-digest": sha}, params=self.team, timeout=5
        )
        assert resp.status_code == 200, resp.text
        return sha

    def deploy(self, files: dict[str, bytes], **body: Any) -> dict[str, Any]:
        refs = [{"file": n, "sha": self.upload(d), "size": len(d)} for n, d in files.items()]
        body = {"name": "aikinklab", "project": self.sb.settings.project_id, "files": refs, **body}
        resp = self.session.post(f"{self.base}/v13/deployments", json=body, params=self.team, timeout=5)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def wait_ready(self, dep_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = self.session.get(f"{self.base}/v13/deployments/{dep_id}", params=self.team, timeout=5).json()
            if got["readyState"] in ("READY", "ERROR", "CANCELED", "BLOCKED"):
                return dict(got)
            time.sleep(0.005)
        raise AssertionError(f"{dep_id} never finished")


def site(version: str) -> dict[str, bytes]:
    return {
        "index.html": f"<h1>{version}</h1>".encode(),
        "about.html": f"about {version}".encode(),
        "vercel.json": json.dumps(VERCEL_JSON).encode(),
    }


def test_env_points_a_client_at_the_sandbox(sb: Sandbox) -> None:
    env = sb.env()
    assert env["VERCEL_API_URL"] == sb.api_url and sb.api_url.startswith("http://127.0.0.1:")
    assert set(env) == {"VERCEL_API_URL", "VERCEL_TOKEN", "VERCEL_PROJECT_ID", "VERCEL_ORG_ID"}
    resp = requests.get(
        f"{env['VERCEL_API_URL']}/v9/projects/{env['VERCEL_PROJECT_ID']}",
        headers={"Authorization": f"Bearer {env['VERCEL_TOKEN']}"},
        params={"teamId": env["VERCEL_ORG_ID"]},
        timeout=5,
    )
    assert resp.status_code == 200


def test_a_ready_deployment_is_served_with_its_vercel_json(sb: Sandbox) -> None:
    client = Client(sb)
    dep = client.wait_ready(client.deploy(site("v1"))["id"])
    url = dep["sandboxUrl"]
    assert url == sb.deployment_url(dep["id"])
    home = requests.get(f"{url}/", timeout=5)
    assert home.text == "<h1>v1</h1>" and home.headers["X-Frame-Options"] == "DENY"
    assert requests.get(f"{url}/about", timeout=5).text == "about v1"  # cleanUrls
    moved = requests.get(f"{url}/old", allow_redirects=False, timeout=5)
    assert (moved.status_code, moved.headers["Location"]) == (308, "/about")
    assert requests.get(f"{url}/app/deep/link", timeout=5).text == "<h1>v1</h1>"  # rewrite
    assert requests.get(f"{url}/vercel.json", timeout=5).status_code == 404
    assert requests.get(f"{url}/missing", timeout=5).status_code == 404


def test_the_output_directory_setting_picks_the_served_folder(sb: Sandbox) -> None:
    client = Client(sb)
    files = {"out/index.html": b"built", "src/index.ts": b"source", "vercel.json": b'{"cleanUrls": true}'}
    dep = client.wait_ready(client.deploy(files, projectSettings={"outputDirectory": "out"})["id"])
    assert requests.get(f"{dep['sandboxUrl']}/", timeout=5).text == "built"


def test_production_aliases_switch_on_deploy_promote_and_rollback(sb: Sandbox) -> None:
    client = Client(sb)
    v1 = client.wait_ready(client.deploy(site("v1"), target="production")["id"])
    www = sb.alias_url("www.aikinklab.com")
    assert www is not None
    assert requests.get(www, timeout=5).text == "<h1>v1</h1>"
    v2 = client.wait_ready(client.deploy(site("v2"), target="production")["id"])
    assert requests.get(www, timeout=5).text == "<h1>v2</h1>"
    rolled = client.session.post(f"{client.base}/v1/projects/{sb.settings.project_id}/rollback/{v1['id']}", timeout=5)
    assert rolled.status_code == 201
    assert requests.get(www, timeout=5).text == "<h1>v1</h1>"
    promoted = client.session.post(f"{client.base}/v10/projects/{sb.settings.project_id}/promote/{v2['id']}", timeout=5)
    assert promoted.status_code == 201
    assert requests.get(www, timeout=5).text == "<h1>v2</h1>"
    assert sb.alias_url("www.aikinklab.com") == www  # same port, new content


def test_a_custom_alias_is_served_on_its_own_port(sb: Sandbox) -> None:
    client = Client(sb)
    dep = client.wait_ready(client.deploy(site("staging"))["id"])
    resp = client.session.post(
        f"{client.base}/v2/deployments/{dep['id']}/aliases", json={"alias": "staging.aikinklab.com"}, timeout=5
    )
    assert resp.status_code == 200
    url = sb.alias_url("staging.aikinklab.com")
    assert url is not None and url != dep["sandboxUrl"]
    assert requests.get(url, timeout=5).text == "<h1>staging</h1>"
    state = requests.get(f"{sb.api_url}/_sandbox/state", timeout=5).json()
    assert state["aliases"]["staging.aikinklab.com"] == {"deploymentId": dep["id"], "sandboxUrl": url}
    assert state["deployments"][dep["id"]]["sandboxUrl"] == dep["sandboxUrl"]


def test_drop_upload_resets_the_connection_mid_body_then_uploads_work(sb: Sandbox) -> None:
    requests.post(f"{sb.api_url}/_sandbox/faults", json={"kind": "drop_upload", "after_bytes": 10}, timeout=5)
    data = b"x" * 200_000
    sha = hashlib.sha1(data).hexdigest()
    headers = {"Authorization": f"Bearer {sb.token}", "x-vercel-digest": sha}
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{sb.api_url}/v2/files", data=data, headers=headers, timeout=5)
    assert not (sb.state_dir / "files" / sha).exists()
    assert requests.post(f"{sb.api_url}/v2/files", data=data, headers=headers, timeout=5).status_code == 200
    assert (sb.state_dir / "files" / sha).read_bytes() == data


def test_faults_over_http_arm_list_fire_and_clear(sb: Sandbox) -> None:
    faults = f"{sb.api_url}/_sandbox/faults"
    specs = [{"kind": "rate_limit", "count": 2, "retry_after": 2}, {"kind": "drop_response", "path": "^/v7/"}]
    armed = requests.post(faults, json=specs, timeout=5)
    assert armed.status_code == 201
    assert [f["kind"] for f in armed.json()["armed"]] == ["rate_limit", "drop_response"]
    headers = {"Authorization": f"Bearer {sb.token}"}
    first = requests.get(f"{sb.api_url}/v9/projects/{sb.settings.project_id}", headers=headers, timeout=5)
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    listed = requests.get(faults, timeout=5).json()
    assert listed["armed"][0]["count"] == 1 and listed["fired"][0]["kind"] == "rate_limit"
    assert requests.delete(faults, timeout=5).status_code == 200
    ok = requests.get(f"{sb.api_url}/v9/projects/{sb.settings.project_id}", headers=headers, timeout=5)
    assert ok.status_code == 200


def test_a_bad_fault_specification_is_refused_with_the_reason(sb: Sandbox) -> None:
    faults = f"{sb.api_url}/_sandbox/faults"
    for spec, word in [
        ({"kind": "meteor"}, "meteor"),
        ({"kind": "server_error", "status": 404}, "status"),
        ({"kind": "rate_limit", "count": 0}, "count"),
        ({"kind": "build_error", "colour": 1}, "colour"),
    ]:
        resp = requests.post(faults, json=spec, timeout=5)
        assert resp.status_code == 400, spec
        assert word in resp.json()["error"]["message"]
    assert requests.get(faults, timeout=5).json()["armed"] == []


def test_control_endpoints_are_not_recorded_and_unknown_ones_are_404(sb: Sandbox) -> None:
    assert requests.get(f"{sb.api_url}/_sandbox/health", timeout=5).json()["ok"] is True
    assert requests.get(f"{sb.api_url}/_sandbox/nope", timeout=5).status_code == 404
    assert sb.traffic == []
    traffic = requests.get(f"{sb.api_url}/_sandbox/traffic", timeout=5).json()
    assert traffic == []


def test_recorded_traffic_masks_the_token(sb: Sandbox) -> None:
    requests.get(f"{sb.api_url}/v9/projects/x", headers={"Authorization": "Bearer super-secret-value"}, timeout=5)
    recorded = requests.get(f"{sb.api_url}/_sandbox/traffic", timeout=5).text
    assert "super-secret-value" not in recorded
    assert sb.traffic[0].headers["authorization"] == "Bearer ***"


def test_every_request_and_answer_of_a_release_scenario_fits_the_contract(sb: Sandbox) -> None:
    """Deploy, fail, retry, promote, roll back, alias, list, read events: all of it fits the contract."""
    client = Client(sb)
    project = sb.settings.project_id
    s = client.session
    sb.faults.missing_files()
    refs = [{"file": "index.html", "sha": client.upload(b"<h1>v1</h1>"), "size": 11}]
    body = {
        "name": "aikinklab",
        "project": project,
        "target": "production",
        "files": refs,
        "meta": {"deployKey": "k1"},
        "gitMetadata": {"commitSha": "abc", "commitRef": "main", "dirty": False},
    }
    lost = s.post(f"{client.base}/v13/deployments", json=body, params=client.team, timeout=5)
    assert lost.status_code == 400
    v1 = client.wait_ready(
        s.post(f"{client.base}/v13/deployments", json=body, params=client.team, timeout=5).json()["id"]
    )
    sb.faults.build_error()
    failed = client.wait_ready(client.deploy(site("broken"), target="production")["id"])
    assert failed["readyState"] == "ERROR"
    sb.faults.rate_limit(count=1, retry_after=0)
    assert s.get(f"{client.base}/v7/deployments", params={"projectId": project}, timeout=5).status_code == 429
    sb.faults.server_error(status=503)
    assert s.get(f"{client.base}/v9/projects/{project}", timeout=5).status_code == 503
    sb.app.configure_project(auto_assign=False)
    staged = client.wait_ready(client.deploy(site("v2"), target="production")["id"])
    sb.app.configure_project(auto_assign=True)
    sb.faults.promote_queued(delay=0.005)
    assert s.post(f"{client.base}/v10/projects/{project}/promote/{staged['id']}", timeout=5).status_code == 202
    deadline = time.monotonic() + 10
    while (
        s.get(f"{client.base}/v9/projects/{project}", timeout=5).json()["lastAliasRequest"]["jobStatus"] != "succeeded"
    ):
        assert time.monotonic() < deadline, "the queued promote never finished"
        time.sleep(0.005)
    assert s.post(f"{client.base}/v10/projects/{project}/promote/{staged['id']}", timeout=5).status_code == 409
    assert (
        s.post(
            f"{client.base}/v1/projects/{project}/rollback/{v1['id']}", params={"description": "bad"}, timeout=5
        ).status_code
        == 201
    )
    assert (
        s.patch(
            f"{client.base}/v1/projects/{project}/rollback/{v1['id']}/update-description",
            json={"description": "checkout broken"},
            timeout=5,
        ).status_code
        == 200
    )
    assert (
        s.post(
            f"{client.base}/v2/deployments/{staged['id']}/aliases", json={"alias": "staging.aikinklab.com"}, timeout=5
        ).status_code
        == 200
    )
    sb.faults.build_stuck()
    stuck = client.deploy(site("stuck"))
    assert s.patch(f"{client.base}/v12/deployments/{stuck['id']}/cancel", timeout=5).status_code == 200
    page = s.get(f"{client.base}/v7/deployments", params={"projectId": project, "limit": 2}, timeout=5).json()
    s.get(
        f"{client.base}/v7/deployments",
        params={"projectId": project, "limit": 2, "until": page["pagination"]["next"]},
        timeout=5,
    )
    s.get(
        f"{client.base}/v7/deployments",
        params={"projectId": project, "target": "production", "state": "READY,ERROR"},
        timeout=5,
    )
    s.get(f"{client.base}/v3/deployments/{v1['id']}/events", params={"direction": "backward", "limit": 3}, timeout=5)
    s.get(f"{client.base}/v13/deployments/{v1['url']}", timeout=5)
    s.get(f"{client.base}/v13/deployments/dpl_doesnotexist", timeout=5)
    s.get(f"{client.base}/v10/projects/{project}/env", timeout=5)
    requests.get(f"{client.base}/v9/projects/{project}", timeout=5)  # no token: 403
    statuses = {e.status for e in sb.traffic}
    assert {200, 201, 202, 400, 403, 404, 409, 429, 503} <= statuses
    assert_traffic_fits(sb.traffic, allow_refused_requests=True)


def test_project_settings_change_over_the_control_plane(sb: Sandbox) -> None:
    url = f"{sb.api_url}/_sandbox/projects/{sb.settings.project_id}"
    resp = requests.patch(
        url, json={"autoAssignCustomDomains": False, "productionAliases": ["www.example.org"]}, timeout=5
    )
    assert resp.status_code == 200
    assert resp.json()["productionAliases"] == ["www.example.org"]
    client = Client(sb)
    dep = client.wait_ready(client.deploy(site("v1"), target="production")["id"])
    assert dep["readySubstate"] == "STAGED"
    client.session.post(f"{client.base}/v10/projects/{sb.settings.project_id}/promote/{dep['id']}", timeout=5)
    assert sb.alias_target("www.example.org") == dep["id"]
    assert sb.alias_target("www.aikinklab.com") is None
    assert requests.patch(url, json={"autoAssign": True}, timeout=5).status_code == 400
    assert requests.patch(url, json={"productionAliases": ["not a host"]}, timeout=5).status_code == 400


def test_site_hosts_can_serve_https_with_a_local_ca(tmp_path: Path) -> None:
    ca = LocalCA()
    context = server_context(ca.issue(["127.0.0.1"]))
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with Sandbox(build_delay=0.01, queue_delay=0.0, ssl_context=context) as sb:
        client = Client(sb)
        dep = client.wait_ready(client.deploy(site("tls"), target="production")["id"])
        assert dep["sandboxUrl"].startswith("https://127.0.0.1:")
        assert requests.get(dep["sandboxUrl"], verify=str(bundle), timeout=5).text == "<h1>tls</h1>"
        www = sb.alias_url("www.aikinklab.com")
        assert www is not None and requests.get(www, verify=str(bundle), timeout=5).text == "<h1>tls</h1>"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(dep["sandboxUrl"], timeout=5)  # the system store does not know the local CA


def test_follow_streams_build_events_until_the_build_is_over() -> None:
    with Sandbox(build_delay=0.1, queue_delay=0.02) as sb:
        client = Client(sb)
        dep = client.deploy(site("v1"))
        resp = client.session.get(
            f"{client.base}/v3/deployments/{dep['id']}/events", params={"follow": 1}, stream=True, timeout=10
        )
        assert resp.headers["Content-Type"] == "application/stream+json"
        lines = [json.loads(line) for line in resp.iter_lines() if line]
        assert lines[0]["created"] <= lines[-1]["created"]
        assert lines[-1]["text"] == "Deployment completed"
        assert sb.deployment(dep["id"]).state == "READY"  # type: ignore[union-attr]
        assert_traffic_fits(sb.traffic)
        streamed = [e for e in sb.traffic if e.path.endswith("/events")]
        assert streamed[0].response_body.count(b"\n") == len(lines)


def test_in_process_helpers_report_nothing_before_ready_and_time_out_clearly() -> None:
    with Sandbox(build_delay=0.01, queue_delay=0.0) as sb:
        sb.faults.build_stuck()
        client = Client(sb)
        dep = client.deploy(site("v1"))
        assert sb.deployment_url(dep["id"]) is None
        assert sb.alias_url("www.aikinklab.com") is None
        with pytest.raises(TimeoutError, match="BUILDING"):
            sb.wait_for(dep["id"], timeout=0.05)
        assert sb.wait_for(dep["id"], states=("BUILDING",)).state == "BUILDING"


def test_a_chunked_upload_without_a_size_is_refused(sb: Sandbox) -> None:
    data = b"chunked body"
    headers = {"Authorization": f"Bearer {sb.token}", "x-vercel-digest": hashlib.sha1(data).hexdigest()}
    resp = requests.post(f"{sb.api_url}/v2/files", data=iter([data[:5], data[5:]]), headers=headers, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_file_size"
    assert sb.traffic[-1].body == data  # the body was read whole, so the connection stays usable


def test_a_temporary_state_dir_is_removed_but_a_given_one_is_kept(tmp_path: Path) -> None:
    with Sandbox(build_delay=0.0, queue_delay=0.0) as temporary:
        made = temporary.state_dir
        assert made.is_dir()
    assert not made.exists()
    with Sandbox(tmp_path / "kept", build_delay=0.0, queue_delay=0.0) as kept:
        Client(kept).upload(b"keep me")
    assert (tmp_path / "kept" / "files" / hashlib.sha1(b"keep me").hexdigest()).read_bytes() == b"keep me"


def test_a_restarted_sandbox_remembers_deployments_and_serves_them_again(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Sandbox(state, build_delay=0.01, queue_delay=0.0) as first:
        client = Client(first)
        v1 = client.wait_ready(client.deploy(site("v1"), target="production")["id"])
        v2 = client.wait_ready(client.deploy(site("v2"), target="production")["id"])
        old_port = first.alias_url("www.aikinklab.com")
    with Sandbox(state, build_delay=0.01, queue_delay=0.0) as second:
        assert second.alias_target("www.aikinklab.com") == v2["id"]
        www = second.alias_url("www.aikinklab.com")
        assert www is not None and www != old_port
        assert requests.get(www, timeout=5).text == "<h1>v2</h1>"
        client = Client(second)
        rolled = client.session.post(
            f"{client.base}/v1/projects/{second.settings.project_id}/rollback/{v1['id']}", timeout=5
        )
        assert rolled.status_code == 201
        assert requests.get(www, timeout=5).text == "<h1>v1</h1>"
        listed = client.session.get(f"{client.base}/v7/deployments", timeout=5).json()
        assert [d["uid"] for d in listed["deployments"]] == [v2["id"], v1["id"]]
        assert requests.get(str(second.deployment_url(v1["id"])), timeout=5).text == "<h1>v1</h1>"


def test_a_damaged_state_file_is_refused_with_the_way_out(tmp_path: Path) -> None:
    from aikinklab_ops.errors import InputError

    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(InputError) as caught:
        Sandbox(tmp_path)
    assert "delete" in str(caught.value)


def test_drop_response_carries_out_the_request_but_loses_the_answer(sb: Sandbox) -> None:
    client = Client(sb)
    sha = client.upload(b"<h1>once</h1>")
    sb.faults.drop_response(method="POST", path=r"^/v13/deployments$")
    body = {"name": "aikinklab", "files": [{"file": "index.html", "sha": sha}], "meta": {"requestKey": "r-1"}}
    with pytest.raises(requests.ConnectionError):
        client.session.post(f"{client.base}/v13/deployments", json=body, timeout=5)
    listed = client.session.get(f"{client.base}/v7/deployments", timeout=5).json()["deployments"]
    assert [d["meta"] for d in listed] == [{"requestKey": "r-1"}]  # it was created all the same
    assert client.session.get(f"{client.base}/v9/projects/x", timeout=5).status_code == 200  # one request only
