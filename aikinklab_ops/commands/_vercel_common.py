"""Shared helpers of the deploy, promote, rollback and deployments commands (not a command)."""

from __future__ import annotations

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.errors import OpsError, UsageError
from aikinklab_ops.vercel import VercelClient, client_from_context
from aikinklab_ops.vercel.settings import VercelSettings


def make_client(ctx: CommandContext, *, pool_maxsize: int = 32) -> VercelClient:
    client = client_from_context(ctx.run, VercelSettings.from_config(ctx.config), pool_maxsize=pool_maxsize)
    client.require_project()
    return client


def positive_seconds(value: float | None, flag: str) -> float | None:
    if value is not None and value <= 0:
        raise UsageError(f"{flag} must be a number of seconds above 0, not {value:g}", hint=f"e.g. {flag} 600")
    return value


def run_url(ctx: CommandContext) -> str | None:
    run = ctx.run
    repo = run.credentials.github_repository
    if repo and run.github_run_id:
        return f"{run.github_server_url}/{repo}/actions/runs/{run.github_run_id}"
    return None


def inspector_url(client: VercelClient, deployment_id: str | None) -> str:
    """The deployment's page in the Vercel dashboard, for a step output; empty when unknown.

    Promote and rollback answers do not carry it, and a failed look-up must not fail a
    production change that already happened.
    """
    if not deployment_id:
        return ""
    try:
        found = client.get_deployment(deployment_id).get("inspectorUrl")
    except OpsError:
        return ""
    return found if isinstance(found, str) else ""
