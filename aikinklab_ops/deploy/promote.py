"""``promote()`` and ``rollback()``: point production at a deployment, and back.

Both refuse what would surprise an operator (a deployment that is not READY, one from another
project, a preview that would need a rebuild) with a message saying why and what to do, and treat
"it is already the current production deployment" as success.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aikinklab_ops.deploy.core import ENV_META, DeployResult, deployment_url
from aikinklab_ops.deploy.settings import PollPolicy
from aikinklab_ops.deploy.wait import build_log_tail, production_id, wait_for_alias_job, wait_for_deployment
from aikinklab_ops.errors import CheckFailed, OpsError, UsageError
from aikinklab_ops.vercel.client import REQUEST_KEY, Deployment, VercelClient, new_request_key
from aikinklab_ops.vercel.errors import VercelApiError


@dataclass(frozen=True)
class PromoteResult:
    ok: bool
    deployment_id: str
    url: str
    previous_deployment_id: str | None
    outcome: str  # promoted, already-current, rebuilt, failed, timeout
    message: str
    new_deployment_id: str | None = None  # with --rebuild: the production build of the preview


@dataclass(frozen=True)
class RollbackResult:
    ok: bool
    from_deployment: str | None
    to_deployment: str | None
    to_url: str
    dry_run: bool
    performed: bool
    message: str
    reason: str | None = None


def current_production_id(client: VercelClient, project_id: str | None = None) -> str | None:
    """The deployment production serves now, if any."""
    return production_id(client.get_project(client.require_project(project_id)))


def _check_project(client: VercelClient, dep: Deployment, project_id: str) -> None:
    """Refuse a deployment of another project (the get answer may not name its project)."""
    owner = dep.get("projectId")
    if owner is None:
        created = dep.get("createdAt") or dep.get("created")
        until = int(created) + 1 if isinstance(created, (int, float)) else None
        found = any(
            d.get("uid") == dep["id"] or d.get("id") == dep["id"]
            for d in client.list_deployments(project_id=project_id, until_ms=until, limit=20, max_pages=1)
        )
        owner = project_id if found else "another project"
    if owner != project_id:
        raise UsageError(
            f"{dep['id']} belongs to {owner}, not to project {project_id}",
            hint="check VERCEL_PROJECT_ID, or pick a deployment of this project (aikinklab-ops deployments list)",
        )


def _get_named(client: VercelClient, deployment: str) -> Deployment:
    """The deployment the operator named; one Vercel does not know is bad input, not an outage."""
    try:
        return client.get_deployment(deployment)
    except VercelApiError as err:
        if err.status != 404:
            raise
        raise UsageError(
            f"no deployment {deployment!r} on Vercel ({err.message})",
            hint="check the id or URL (aikinklab-ops deployments list shows what exists), and VERCEL_ORG_ID "
            "for a team project",
        ) from err


def _require_ready(dep: Deployment, what: str) -> None:
    state = dep.get("readyState")
    if state != "READY":
        raise UsageError(
            f"{dep['id']} is {state}, not READY: only a READY deployment can be {what}",
            hint="wait for it to build, or pick a READY one (aikinklab-ops deployments list --env production)",
        )


def promote(
    client: VercelClient,
    deployment: str,
    *,
    project_id: str | None = None,
    rebuild: bool = False,
    timeout_s: float = 600.0,
    poll: PollPolicy | None = None,
    project_name: str = "aikinklab",
    log: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PromoteResult:
    """Make ``deployment`` (id or URL) the production deployment."""
    say = log or (lambda _t: None)
    poll = poll or PollPolicy()
    pid = client.require_project(project_id)
    dep = _get_named(client, deployment)
    dep_id = str(dep["id"])
    _check_project(client, dep, pid)
    _require_ready(dep, "promoted")
    project = client.get_project(pid)
    current = production_id(project)
    url = deployment_url(dep)
    if current == dep_id:
        return PromoteResult(
            True, dep_id, url, current, "already-current", f"{dep_id} is already the current production deployment"
        )
    if dep.get("target") != "production":
        if not rebuild:
            raise UsageError(
                f"{dep_id} is a preview deployment: promoting it means rebuilding it with the production "
                "environment variables, as a new deployment",
                hint="run again with --rebuild to build it for production, or promote a production deployment",
            )
        return _rebuild(client, dep, pid, current, project_name, timeout_s, poll, say, sleep, clock)
    say(f"promoting {dep_id} (production is {current or 'nothing yet'})")
    try:
        status = client.promote(dep_id, project_id=pid)
    except VercelApiError as err:
        if err.status == 409 and production_id(client.get_project(pid)) == dep_id:
            return PromoteResult(
                True, dep_id, url, current, "already-current", f"{dep_id} is already the current production deployment"
            )
        raise
    if status == 202:
        say(f"promote of {dep_id} queued; following it")
        job = wait_for_alias_job(
            client,
            dep_id,
            timeout_s=timeout_s,
            poll=poll,
            on_status=lambda s: say(f"promote: {s}"),
            sleep=sleep,
            clock=clock,
        )
        if job.status != "succeeded":
            outcome = "timeout" if job.status == "timeout" else "failed"
            if job.status == "timeout":
                what = (
                    f"not finished after {timeout_s:.0f}s; it may still complete: check "
                    "`aikinklab-ops deployments list --env production` before running it again"
                )
            else:
                what = (
                    f"ended {job.status}; production still serves {current or 'what it served before'}: "
                    f"see the project on Vercel, then run `aikinklab-ops promote {dep_id}` again"
                )
            return PromoteResult(False, dep_id, url, current, outcome, f"promote of {dep_id} {what}")
    return PromoteResult(
        True, dep_id, url, current, "promoted", f"{dep_id} is now the production deployment (was {current})"
    )


def _rebuild(
    client: VercelClient,
    dep: Deployment,
    pid: str,
    current: str | None,
    project_name: str,
    timeout_s: float,
    poll: PollPolicy,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> PromoteResult:
    dep_id = str(dep["id"])
    body = {
        "name": str(dep.get("name") or project_name),
        "project": pid,
        "deploymentId": dep_id,
        "target": "production",
        "meta": {REQUEST_KEY: new_request_key(), ENV_META: "production", "aikinklabOpsRebuildOf": dep_id},
    }
    say(f"rebuilding preview {dep_id} for production")
    t0 = clock()
    new = client.create_deployment(body)
    new_id = str(new["id"])
    outcome = wait_for_deployment(
        client,
        new,
        require_alias=True,
        timeout_s=timeout_s,
        poll=poll,
        on_state=lambda s, _d: say(f"{new_id}: {s}"),
        sleep=sleep,
        clock=clock,
    )
    url = deployment_url(outcome.deployment) or deployment_url(new)
    if outcome.state == "READY" and outcome.deployment.get("aliasAssigned") is True:
        return PromoteResult(
            True, dep_id, url, current, "rebuilt", f"{new_id} (production build of {dep_id}) is live", new_id
        )
    if outcome.state == "READY" and outcome.not_promoted:
        # Built, but staged (a rollback pins production, or no auto-assign): the operator asked for
        # a promote, so promote the production build like any production deployment.
        say(f"{new_id} is READY but staged ({outcome.not_promoted}); promoting it")
        done = promote(
            client,
            new_id,
            project_id=pid,
            timeout_s=max(1.0, timeout_s - (clock() - t0)),  # --timeout bounds the whole promote
            poll=poll,
            project_name=project_name,
            log=say,
            sleep=sleep,
            clock=clock,
        )
        if done.ok:
            return PromoteResult(
                True, dep_id, done.url, current, "rebuilt", f"{new_id} (production build of {dep_id}) is live", new_id
            )
        return PromoteResult(False, dep_id, done.url, current, done.outcome, done.message, new_id)
    if outcome.timed_out:
        try:
            client.cancel_deployment(new_id)
            note = "canceled"
        except OpsError:
            note = "NOT canceled, it may still go live"
        return PromoteResult(
            False, dep_id, url, current, "timeout", f"{new_id} not live after {timeout_s:.0f}s ({note})", new_id
        )
    why = outcome.deployment.get("errorMessage") or outcome.deployment.get("errorCode") or outcome.state
    tail = build_log_tail(client, new_id, 20)
    message = f"production build {new_id} of {dep_id} failed: {why}"
    if tail:
        message += "\n" + "\n".join(tail)
    return PromoteResult(False, dep_id, url, current, "failed", message, new_id)


def _served_production(d: Deployment) -> bool:
    return d.get("isRollbackCandidate") is True or d.get("readySubstate") == "PROMOTED"


def choose_rollback_target(
    client: VercelClient, project_id: str, current_id: str, *, current_created: float | None
) -> Deployment | None:
    """The most recent production deployment before ``current_id`` that was READY and served production."""
    for d in client.list_deployments(project_id=project_id, target="production", limit=50, max_pages=20):
        uid = d.get("uid") or d.get("id")
        if uid == current_id:
            continue
        state = d.get("readyState") or d.get("state")
        created = d.get("createdAt") or d.get("created")
        if current_created is not None and isinstance(created, (int, float)) and created >= current_created:
            continue
        if state == "READY" and _served_production(d):
            return d
    return None


def rollback(
    client: VercelClient,
    project_id: str | None = None,
    *,
    to: str | None = None,
    dry_run: bool = False,
    reason: str | None = None,
    timeout_s: float = 600.0,
    poll: PollPolicy | None = None,
    log: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RollbackResult:
    """Point production back at ``to`` or, without it, at the last deployment that served production."""
    say = log or (lambda _t: None)
    poll = poll or PollPolicy()
    pid = client.require_project(project_id)
    project = client.get_project(pid)
    current = production_id(project)
    if current is None:
        raise CheckFailed(
            f"project {pid} has no current production deployment: nothing to roll back from",
            hint="deploy production first (aikinklab-ops deploy --env production)",
        )
    current_dep = client.get_deployment(current)
    if to:
        target = _get_named(client, to)
        _check_project(client, target, pid)
        _require_ready(target, "rolled back to")
        if target.get("target") != "production":
            raise UsageError(
                f"{target['id']} is a preview deployment: production can only roll back to a production deployment",
                hint="pick one from aikinklab-ops deployments list --env production",
            )
    else:
        created = current_dep.get("createdAt")
        found = choose_rollback_target(
            client, pid, current, current_created=float(created) if isinstance(created, (int, float)) else None
        )
        if found is None:
            raise CheckFailed(
                f"no production deployment before {current} that was READY and served production: "
                "nothing to roll back to",
                hint="pick one explicitly with --to DEPLOYMENT (aikinklab-ops deployments list --env production)",
            )
        target = client.get_deployment(str(found.get("uid") or found.get("id")))
    to_id = str(target["id"])
    to_url = deployment_url(target)
    if to_id == current:
        return RollbackResult(
            True,
            current,
            to_id,
            to_url,
            dry_run,
            False,
            f"{to_id} is already the current production deployment",
            reason,
        )
    if dry_run:
        return RollbackResult(
            True,
            current,
            to_id,
            to_url,
            True,
            False,
            f"would roll production back from {current} to {to_id} (dry run: nothing changed)",
            reason,
        )
    say(f"rolling production back from {current} to {to_id}")
    client.rollback(to_id, description=reason, project_id=pid)
    job = wait_for_alias_job(
        client,
        to_id,
        timeout_s=timeout_s,
        poll=poll,
        on_status=lambda s: say(f"rollback: {s}"),
        sleep=sleep,
        clock=clock,
    )
    if job.status != "succeeded":
        if job.status == "timeout":
            what = (
                f"not finished after {timeout_s:.0f}s; it may still complete: check "
                "`aikinklab-ops deployments list --env production` before running it again"
            )
        else:
            what = (
                f"ended {job.status}; production still serves {current}: see the project on Vercel, then run "
                f"`aikinklab-ops rollback --to {to_id}` again"
            )
        return RollbackResult(False, current, to_id, to_url, False, True, f"rollback to {to_id} {what}", reason)
    return RollbackResult(
        True, current, to_id, to_url, False, True, f"production rolled back from {current} to {to_id}", reason
    )


__all__ = ["DeployResult", "PromoteResult", "RollbackResult", "choose_rollback_target", "promote", "rollback"]
