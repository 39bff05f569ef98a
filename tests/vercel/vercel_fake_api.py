"""Contract-checked mocks of the Vercel API for unit tests (on the suite's ``responses`` mock).

Every request the client sends is checked against the published contract subset (path, method,
query, headers, body), and every success body a test gives is checked too, so a mock cannot drift
from the real API. Problems are collected and asserted empty when the test ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import responses
from vercel_contract import check_mock_response, check_request

API = "https://api.vercel.com"
TOKEN = "vercel-test-token-0123456789abcdef"
TEAM = "team_testteam000000000000000"
PROJECT = "prj_testproject00000000000000"


class Call:
    def __init__(self, request: Any) -> None:
        self.method: str = request.method
        self.url: str = request.url
        self.path: str = request.path_url.split("?")[0]
        self.params: dict[str, str] = dict(request.params)
        self.headers: Mapping[str, str] = request.headers
        raw = request.body
        if hasattr(raw, "read"):
            raw = raw.read()
            self.streamed = True
        else:
            self.streamed = False
        self.body: bytes = raw.encode() if isinstance(raw, str) else (raw or b"")

    def json(self) -> Any:
        return json.loads(self.body)


class FakeVercel:
    """Register answers per operation; ``calls`` records every request in order."""

    def __init__(self, rsps: responses.RequestsMock, api: str = API) -> None:
        self.rsps = rsps
        self.api = api
        self.calls: list[Call] = []
        self.problems: list[str] = []

    def add(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        raise_error: BaseException | None = None,
        check: bool = True,
        callback: Callable[[Call], tuple[int, Any]] | None = None,
    ) -> None:
        pattern = re.compile(re.escape(self.api + path) + r"(\?.*)?$")

        def handler(request: Any) -> tuple[int, dict[str, str], str]:
            call = Call(request)
            self.calls.append(call)
            self.problems.extend(check_request(call.method, call.url, headers=dict(call.headers), body=call.body))
            if raise_error is not None:
                raise raise_error
            code, body = (status, json_body) if callback is None else callback(call)
            text = "" if body is None else json.dumps(body)
            if check and code < 400:
                self.problems.extend(check_mock_response(call.method, call.url, code, body))
            return code, {"Content-Type": "application/json", **(headers or {})}, text

        self.rsps.add_callback(method, pattern, callback=handler)

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        rx = re.compile(path_regex)
        return [c for c in self.calls if c.method == method and rx.fullmatch(c.path)]


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def deployment(
    dep_id: str = "dpl_abc123",
    *,
    state: str = "READY",
    target: str | None = None,
    alias_assigned: bool = False,
    alias: list[str] | None = None,
    alias_error: dict[str, str] | None = None,
    created: int = 1_700_000_000_000,
    meta: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A deployment as get/create answer it (the owner's view of the contract)."""
    data: dict[str, Any] = {
        "id": dep_id,
        "url": f"aikinklab-{dep_id[4:].lower()}.vercel.app",
        "name": "aikinklab",
        "meta": meta or {},
        "createdAt": created,
        "readyState": state,
        "target": target,
        "alias": alias or [],
        "aliasAssigned": alias_assigned,
        "aliasError": alias_error,
        "inspectorUrl": f"https://vercel.com/team/aikinklab/{dep_id[4:]}",
    }
    data.update(extra)
    return data


def list_item(
    dep_id: str,
    *,
    state: str = "READY",
    target: str | None = "production",
    created: int = 1_700_000_000_000,
    substate: str | None = "PROMOTED",
    candidate: bool | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One entry of GET /v7/deployments (``uid``, not ``id``)."""
    data: dict[str, Any] = {
        "uid": dep_id,
        "name": "aikinklab",
        "url": f"aikinklab-{dep_id[4:].lower()}.vercel.app",
        "created": created,
        "createdAt": created,
        "creator": {"uid": "user_1"},
        "inspectorUrl": f"https://vercel.com/team/aikinklab/{dep_id[4:]}",
        "projectId": PROJECT,
        "readyState": state,
        "state": state,
        "type": "LAMBDAS",
        "target": target,
        "meta": meta or {},
    }
    if substate:
        data["readySubstate"] = substate
    if candidate is not None:
        data["isRollbackCandidate"] = candidate
    return data


def listing(items: list[dict[str, Any]], next_: int | None = None) -> dict[str, Any]:
    return {"deployments": items, "pagination": {"count": len(items), "next": next_, "prev": None}}


def project(
    production: str | None = None,
    *,
    last_alias: dict[str, Any] | None = None,
    rollback_target: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": PROJECT, "name": "aikinklab", "targets": {}}
    if production:
        data["targets"]["production"] = {
            "id": production,
            "name": "aikinklab",
            "url": f"aikinklab-{production[4:].lower()}.vercel.app",
            "createdAt": 1_700_000_000_000,
            "readyState": "READY",
            "type": "LAMBDAS",
        }
    data["lastAliasRequest"] = last_alias
    if rollback_target is not None:
        data["lastRollbackTarget"] = rollback_target
    return data


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def __call__(self) -> float:
        return self.now
