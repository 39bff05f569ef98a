"""deploy(): create, upload only what is missing, wait, aliases — against contract-checked mocks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from vercel_fake_api import PROJECT, FakeClock, FakeVercel, deployment, error

from aikinklab_ops.deploy import DeployRequest, DeploySettings, EnvironmentTarget, GitMetadata, PollPolicy, deploy
from aikinklab_ops.errors import InputError
from aikinklab_ops.vercel import REQUEST_KEY, VercelApiError, VercelClient

PREVIEW = EnvironmentTarget("preview")
STAGING = EnvironmentTarget("staging", aliases=("staging.aikinklab.com",))
PRODUCTION = EnvironmentTarget("production", vercel_target="production", branch="main")
SETTINGS = DeploySettings(timeout_s=60, poll=PollPolicy((1.0, 5.0, 15.0), 2), log_lines=3, hash_workers=1)


def tree(tmp_path: Path) -> dict[str, bytes]:
    files = {
        "package.json": b'{"name":"web"}',
        "app/page.tsx": b"export default 1",
        "public/a.txt": b"same",
        "public/b.txt": b"same",
    }
    for rel, data in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def sha(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def run(
    client: VercelClient,
    clock: FakeClock,
    tmp_path: Path,
    env: EnvironmentTarget = PREVIEW,
    settings: DeploySettings = SETTINGS,
    **kw: Any,
):  # type: ignore[no-untyped-def]
    return deploy(settings, client, DeployRequest(path=tmp_path, environment=env, **kw), sleep=clock.sleep, clock=clock)


def test_missing_files_are_uploaded_exactly_once_then_ready(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    files = tree(tmp_path)
    missing = [sha(files["app/page.tsx"]), sha(b"same")]
    fake.add("POST", "/v13/deployments", status=400, json_body=error("missing_files", "Missing files", missing=missing))
    fake.add("POST", "/v2/files", json_body={})
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_1", state="QUEUED"))
    fake.add("GET", "/v13/deployments/dpl_1", json_body=deployment("dpl_1", state="BUILDING"))
    fake.add("GET", "/v13/deployments/dpl_1", json_body=deployment("dpl_1", state="READY"))
    result = run(client, clock, tmp_path, git=GitMetadata(commit_sha="abc", commit_ref="feature", dirty=False))
    assert result.ok and result.state == "READY"
    uploads = fake.calls_to("POST", "/v2/files")
    assert sorted(c.headers["x-vercel-digest"] for c in uploads) == sorted(missing)
    assert (result.files_total, result.files_uploaded, result.bytes_uploaded) == (4, 2, len(b"export default 1") + 4)
    first, second = (c.json() for c in fake.calls_to("POST", "/v13/deployments"))
    assert first == second, "the same body (and request key) is sent again after the uploads"
    assert "target" not in first, "a preview leaves target out"
    assert first["project"] == PROJECT and first["name"] == "aikinklab"
    assert first["gitMetadata"] == {"commitSha": "abc", "commitRef": "feature", "dirty": False}
    assert {f["file"] for f in first["files"]} == set(files)
    assert first["meta"][REQUEST_KEY]
    assert result.url == "https://aikinklab-1.vercel.app"
    assert result.inspector_url and result.deployment_id == "dpl_1"
    assert clock.sleeps == [1.0, 1.0], "polls start at about a second"


def test_unchanged_tree_uploads_nothing(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_2", state="READY"))
    result = run(client, clock, tmp_path)
    assert result.ok and result.files_uploaded == 0 and result.bytes_uploaded == 0
    assert fake.calls_to("POST", "/v2/files") == []


def test_missing_files_unknown_to_us_is_an_error(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add(
        "POST", "/v13/deployments", status=400, json_body=error("missing_files", "Missing files", missing=["f" * 40])
    )
    with pytest.raises(VercelApiError, match="does not contain"):
        run(client, clock, tmp_path)
    assert fake.calls_to("POST", "/v2/files") == []


def test_files_still_missing_after_upload_stop_the_loop(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    files = tree(tmp_path)
    body = error("missing_files", "Missing files", missing=[sha(files["package.json"])])
    fake.add("POST", "/v13/deployments", status=400, json_body=body)
    fake.add("POST", "/v2/files", json_body={})
    with pytest.raises(VercelApiError, match="still reported missing"):
        run(client, clock, tmp_path)
    assert len(fake.calls_to("POST", "/v2/files")) == 1


def test_production_waits_for_alias_assignment(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_p", state="BUILDING", target="production"))
    fake.add("GET", "/v13/deployments/dpl_p", json_body=deployment("dpl_p", state="READY", target="production"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_p",
        json_body=deployment(
            "dpl_p", state="READY", target="production", alias_assigned=True, alias=["www.aikinklab.com"]
        ),
    )
    result = run(client, clock, tmp_path, env=PRODUCTION)
    assert result.ok and result.target == "production"
    assert result.aliases == ("www.aikinklab.com",)
    assert fake.calls_to("POST", "/v13/deployments")[0].json()["target"] == "production"
    assert len(fake.calls_to("GET", "/v13/deployments/dpl_p")) == 2


def test_production_alias_error_fails(fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path) -> None:
    tree(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        json_body=deployment(
            "dpl_p", state="READY", target="production", alias_error={"code": "cert_missing", "message": "no cert"}
        ),
    )
    result = run(client, clock, tmp_path, env=PRODUCTION)
    assert not result.ok and result.error_code == "cert_missing" and "no cert" in (result.error_message or "")


def test_production_pinned_by_a_rollback_says_to_promote(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        json_body=deployment("dpl_p", state="READY", target="production", readySubstate="STAGED"),
    )
    fake.add(
        "GET", f"/v9/projects/{PROJECT}", json_body={"id": PROJECT, "name": "aikinklab", "lastRollbackTarget": {"x": 1}}
    )
    result = run(client, clock, tmp_path, env=PRODUCTION)
    assert not result.ok and result.error_code == "NOT_PROMOTED"
    assert "aikinklab-ops promote dpl_p" in (result.error_message or "")
    assert "rollback pins production" in (result.error_message or "")
    assert clock.now == 0, "no waiting for a promotion that will not come"


def test_production_without_auto_assigned_domains_says_to_promote(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        json_body=deployment("dpl_p", state="READY", target="production", readySubstate="STAGED"),
    )
    fake.add(
        "GET",
        f"/v9/projects/{PROJECT}",
        json_body={"id": PROJECT, "name": "aikinklab", "autoAssignCustomDomains": False},
    )
    result = run(client, clock, tmp_path, env=PRODUCTION)
    assert not result.ok and result.error_code == "NOT_PROMOTED"
    assert "does not auto-assign" in (result.error_message or "")


def _events(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "stdout",
            "created": i,
            "payload": {"date": i, "deploymentId": "dpl_e", "id": str(i), "serial": str(i), "text": f"line {i}"},
        }
        for i in range(n)
    ] + [
        {"type": "delimiter", "created": 99, "payload": {"date": 99, "deploymentId": "dpl_e", "id": "d", "serial": "d"}}
    ]


@pytest.mark.parametrize("state", ["ERROR", "CANCELED", "BLOCKED"])
def test_failed_states_report_code_message_inspector_and_log_tail(
    state: str, fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_e", state="BUILDING"))
    fake.add(
        "GET",
        "/v13/deployments/dpl_e",
        json_body=deployment("dpl_e", state=state, errorCode="BUILD_FAILED", errorMessage="npm run build exited 1"),
    )
    fake.add("GET", "/v3/deployments/dpl_e/events", json_body=_events(10))
    result = run(client, clock, tmp_path)
    assert not result.ok and result.state == state
    assert result.error_code == "BUILD_FAILED" and result.error_message == "npm run build exited 1"
    assert result.log_lines == ("line 7", "line 8", "line 9"), "the last log_lines lines, oldest first"
    assert result.inspector_url == "https://vercel.com/team/aikinklab/e"
    assert fake.calls_to("POST", "/v2/deployments/dpl_e/aliases") == [], "no alias on a failed build"
    details = result.details()
    assert details["build_log"] == ["line 7", "line 8", "line 9"] and details["error_code"] == "BUILD_FAILED"


def test_timeout_cancels_so_it_cannot_go_live_later(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_t", state="BUILDING", target="production"))
    fake.add("GET", "/v13/deployments/dpl_t", json_body=deployment("dpl_t", state="BUILDING", target="production"))
    fake.add("PATCH", "/v12/deployments/dpl_t/cancel", json_body=deployment("dpl_t", state="CANCELED"))
    fake.add("GET", "/v3/deployments/dpl_t/events", json_body=_events(2))
    result = run(client, clock, tmp_path, env=PRODUCTION)
    assert not result.ok and result.timed_out and result.canceled
    assert result.error_code == "TIMEOUT" and "canceled" in (result.error_message or "")
    assert clock.now == pytest.approx(60.0), "waits the whole timeout, not more"
    assert clock.sleeps[:5] == [1.0, 1.0, 5.0, 5.0, 15.0], "polling backs off 1 s -> 5 s -> 15 s"
    assert len(fake.calls_to("PATCH", "/v12/deployments/dpl_t/cancel")) == 1


def test_aliases_after_ready(fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_s", state="READY"))
    fake.add(
        "POST",
        "/v2/deployments/dpl_s/aliases",
        json_body={
            "alias": "staging.aikinklab.com",
            "created": "2026-01-01T00:00:00.000Z",
            "uid": "al_1",
            "oldDeploymentId": "dpl_old",
        },
    )
    result = run(client, clock, tmp_path, env=STAGING)
    assert result.ok and result.aliases == ("staging.aikinklab.com",)


def test_a_failed_alias_fails_the_deploy_and_puts_earlier_aliases_back(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    env = EnvironmentTarget("staging", aliases=("staging.aikinklab.com", "beta.aikinklab.com"))
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_s", state="READY"))
    ok = {
        "alias": "staging.aikinklab.com",
        "created": "2026-01-01T00:00:00.000Z",
        "uid": "al_1",
        "oldDeploymentId": "dpl_old",
    }
    fake.add(
        "POST",
        "/v2/deployments/dpl_s/aliases",
        callback=lambda c: (
            (200, ok) if c.json()["alias"].startswith("staging") else (409, error("alias_in_use", "in use"))
        ),
    )
    fake.add("POST", "/v2/deployments/dpl_old/aliases", json_body={**ok, "oldDeploymentId": "dpl_s"})
    result = run(client, clock, tmp_path, env=env)
    assert not result.ok and result.error_code == "alias_in_use"
    assert "beta.aikinklab.com" in (result.error_message or "")
    assert "put back staging.aikinklab.com" in (result.error_message or "")
    assert [c.json() for c in fake.calls_to("POST", "/v2/deployments/dpl_old/aliases")] == [
        {"alias": "staging.aikinklab.com"}
    ]


def test_custom_environment_for_staging(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_c", state="READY"))
    env = EnvironmentTarget("staging", custom_environment="staging")
    result = run(client, clock, tmp_path, env=env, settings=DeploySettings(root_directory="apps/web", hash_workers=1))
    body = fake.calls_to("POST", "/v13/deployments")[0].json()
    assert body["customEnvironmentSlugOrId"] == "staging" and "target" not in body
    assert body["projectSettings"] == {"rootDirectory": "apps/web"}
    assert result.ok and result.target == "staging"


def test_too_many_files_fails_before_any_request(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    tree(tmp_path)
    assert DeploySettings().max_files == 15_000, "Vercel's limit by default"
    with pytest.raises(InputError, match="4 files to deploy, more than the 3"):
        run(client, clock, tmp_path, settings=DeploySettings(max_files=3))
    assert fake.calls == []


def test_progress_shows_files_and_bytes(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    files = tree(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        status=400,
        json_body=error("missing_files", "Missing files", missing=[sha(files["package.json"])]),
    )
    fake.add("POST", "/v2/files", json_body={})
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_1", state="READY"))

    class Rec:
        def __init__(self) -> None:
            self.events: list[tuple[str, object]] = []

        def start(self, label: str, total: int | None = None, unit: str = "") -> None:
            self.events.append(("start", (label, total, unit)))

        def advance(self, n: int = 1, *, note: str | None = None) -> None:
            self.events.append(("advance", (n, note)))

        def message(self, text: str) -> None:
            self.events.append(("message", text))

        def finish(self, note: str | None = None) -> None:
            self.events.append(("finish", note))

    rec = Rec()
    deploy(
        SETTINGS,
        client,
        DeployRequest(path=tmp_path, environment=PREVIEW),
        progress=rec,
        sleep=clock.sleep,
        clock=clock,
    )
    assert ("start", ("uploading 1 file(s)", len(files["package.json"]), "B")) in rec.events
    assert ("advance", (len(files["package.json"]), "1/1 files")) in rec.events
    assert any(e == ("message", "dpl_1: READY") for e in rec.events)


def test_uploads_are_bounded_by_concurrency(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    import threading
    import time

    for i in range(12):
        (tmp_path / f"f{i}.txt").write_text(f"content {i}")
    shas = [sha(f"content {i}".encode()) for i in range(12)]
    active = peak = 0
    lock = threading.Lock()

    def slow_upload(_call: object) -> tuple[int, object]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with lock:
            active -= 1
        return 200, {}

    fake.add("POST", "/v13/deployments", status=400, json_body=error("missing_files", "Missing files", missing=shas))
    fake.add("POST", "/v2/files", callback=slow_upload)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_1", state="READY"))
    settings = DeploySettings(concurrency=3, poll=PollPolicy((1.0,), 1), hash_workers=1)
    result = run(client, clock, tmp_path, settings=settings)
    assert result.ok and result.files_uploaded == 12
    assert peak <= 3


def test_a_file_that_cannot_be_uploaded_stops_before_any_deployment(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path
) -> None:
    files = tree(tmp_path)
    fake.add(
        "POST",
        "/v13/deployments",
        status=400,
        json_body=error("missing_files", "Missing files", missing=[sha(files["package.json"])]),
    )
    fake.add("POST", "/v2/files", status=500, json_body=error("internal_server_error", "disk full"))
    with pytest.raises(VercelApiError, match="disk full"):
        run(client, clock, tmp_path)
    assert len(fake.calls_to("POST", "/v13/deployments")) == 1, "no create after a failed upload"
    assert len(fake.calls_to("POST", "/v2/files")) == client.upload_attempts
