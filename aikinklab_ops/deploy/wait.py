"""Waiting on Vercel: a deployment's build, and a project's alias job (queued promote/rollback)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aikinklab_ops.deploy.settings import PollPolicy
from aikinklab_ops.vercel.client import Deployment, VercelClient

FAILED_STATES = frozenset({"ERROR", "CANCELED", "BLOCKED", "DELETED"})
LOG_EVENT_TYPES = frozenset({"stdout", "stderr", "command", "fatal", "exit"})


@dataclass(frozen=True)
class WaitOutcome:
    deployment: Deployment
    state: str
    timed_out: bool = False
    # Why a deployment is READY for production but not serving it: an earlier rollback pins
    # production (Vercel then stops moving the production domains to new builds until a promote),
    # or the project does not auto-assign its domains.
    not_promoted: str | None = None

    @property
    def alias_error(self) -> dict[str, Any] | None:
        err = self.deployment.get("aliasError")
        return err if isinstance(err, dict) else None


def wait_for_deployment(
    client: VercelClient,
    deployment: Deployment,
    *,
    require_alias: bool,
    timeout_s: float,
    poll: PollPolicy,
    on_state: Callable[[str, Deployment], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WaitOutcome:
    """Poll until READY (and, with ``require_alias``, aliasAssigned), a failed state, or the timeout."""
    t0 = clock()
    dep = deployment
    last_state: str | None = None
    polls = 0
    while True:
        state = str(dep.get("readyState") or dep.get("state") or "QUEUED")
        if state != last_state:
            last_state = state
            if on_state:
                on_state(state, dep)
        if state in FAILED_STATES:
            return WaitOutcome(dep, state)
        if state == "READY":
            if not require_alias or dep.get("aliasAssigned") is True:
                return WaitOutcome(dep, state)
            if isinstance(dep.get("aliasError"), dict):
                return WaitOutcome(dep, state)
            if dep.get("readySubstate") == "STAGED":
                project = client.get_project()
                if project.get("lastRollbackTarget"):
                    return WaitOutcome(dep, state, not_promoted="an earlier rollback pins production")
                if project.get("autoAssignCustomDomains") is False:
                    return WaitOutcome(dep, state, not_promoted="the project does not auto-assign production domains")
        remaining = timeout_s - (clock() - t0)
        if remaining <= 0:
            return WaitOutcome(dep, state, timed_out=True)
        sleep(min(poll.interval(polls), remaining))
        polls += 1
        dep = client.get_deployment(str(dep["id"]))


def build_log_tail(client: VercelClient, deployment_id: str, lines: int) -> tuple[str, ...]:
    """The last ``lines`` lines of the build log; a failure to fetch it is said, not raised."""
    if lines <= 0:
        return ()
    try:
        events = client.get_events(deployment_id, limit=max(lines * 4, 100))
    except Exception as err:  # the log is a courtesy on a failure path: never hide the real failure
        return (f"(build log unavailable: {getattr(err, 'message', err)})",)
    out: list[str] = []
    for e in events:
        if e.get("type") not in LOG_EVENT_TYPES:
            continue
        payload = e.get("payload") if isinstance(e.get("payload"), dict) else {}
        text = payload.get("text") if payload else None
        text = text if text is not None else e.get("text")
        if isinstance(text, str):
            out.extend(text.rstrip("\n").splitlines() or [""])
    return tuple(out[-lines:])


def production_id(project: Mapping[str, Any]) -> str | None:
    """The id of the deployment a project's production serves now, if any."""
    prod = (project.get("targets") or {}).get("production")
    return str(prod["id"]) if isinstance(prod, dict) and prod.get("id") else None


@dataclass(frozen=True)
class AliasJob:
    status: str  # succeeded, failed, skipped, timeout
    request: dict[str, Any] | None


def wait_for_alias_job(
    client: VercelClient,
    deployment_id: str,
    *,
    timeout_s: float,
    poll: PollPolicy,
    on_status: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AliasJob:
    """Follow ``project.lastAliasRequest`` for ``deployment_id`` until it finishes or the timeout."""
    t0 = clock()
    polls = 0
    last: str | None = None
    while True:
        project = client.get_project()
        req = project.get("lastAliasRequest")
        req = req if isinstance(req, dict) else None
        if req and req.get("toDeploymentId") == deployment_id:
            status = str(req.get("jobStatus") or "pending")
            if status != last:
                last = status
                if on_status:
                    on_status(status)
            if status in ("succeeded", "failed", "skipped"):
                return AliasJob(status, req)
        elif production_id(project) == deployment_id:
            return AliasJob("succeeded", req)
        remaining = timeout_s - (clock() - t0)
        if remaining <= 0:
            return AliasJob("timeout", req)
        sleep(min(poll.interval(polls), remaining))
        polls += 1
