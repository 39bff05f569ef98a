"""Shared pieces of the sandbox tests: a hand-driven clock and a compact way to call the app."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from aikinklab_ops.sandbox import ApiRequest, ApiResponse, SandboxApp, SandboxSettings

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROJECT = "prj_aikinklabsandbox"


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def make_app(tmp_path: Path, clock: Clock, **settings: Any) -> SandboxApp:
    settings.setdefault("build_delay", 1.0)
    settings.setdefault("queue_delay", 1.0)
    return SandboxApp(tmp_path / "state", SandboxSettings(**settings), clock=clock)


def call(
    app: SandboxApp,
    method: str,
    target: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> ApiResponse:
    hdrs = dict(AUTH if headers is None else headers)
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
    hdrs.setdefault("Content-Length", str(len(data)))
    return app.handle(ApiRequest.build(method, target, hdrs, data))


def upload(app: SandboxApp, data: bytes) -> str:
    digest = sha1(data)
    resp = call(app, "POST", "/v2/files", headers={**AUTH, "x-vercel-digest": digest}, raw=data)
    assert resp.status == 200, resp.body
    return digest


def deploy(app: SandboxApp, files: dict[str, bytes] | None = None, **body: Any) -> dict[str, Any]:
    """Upload ``files`` and create a deployment of them; the answer's JSON."""
    files = files if files is not None else {"index.html": b"<h1>home</h1>"}
    refs = [{"file": name, "sha": upload(app, data), "size": len(data)} for name, data in files.items()]
    body.setdefault("name", "aikinklab")
    body.setdefault("project", PROJECT)
    resp = call(app, "POST", "/v13/deployments", {**body, "files": refs})
    assert resp.status == 200, resp.body
    return dict(resp.json())


def get(app: SandboxApp, dep_id: str) -> dict[str, Any]:
    resp = call(app, "GET", f"/v13/deployments/{dep_id}")
    assert resp.status == 200, resp.body
    return dict(resp.json())
