"""Build a ``VercelClient`` from the run context (credentials) and the ``vercel`` settings."""

from __future__ import annotations

from aikinklab_ops.config import RunContext
from aikinklab_ops.errors import UsageError
from aikinklab_ops.http import make_session
from aikinklab_ops.vercel.client import VercelClient
from aikinklab_ops.vercel.settings import VercelSettings


def client_from_context(
    run: RunContext,
    settings: VercelSettings,
    *,
    pool_maxsize: int = 32,
) -> VercelClient:
    creds = run.credentials
    if not creds.vercel_token:
        raise UsageError(
            "VERCEL_TOKEN is not set",
            hint="set VERCEL_TOKEN to a Vercel access token (https://vercel.com/account/tokens); in a workflow "
            "pass it from secrets.VERCEL_TOKEN",
        )
    session = make_session(
        timeout=(settings.connect_timeout_s, settings.read_timeout_s),
        retries=settings.retries,
        max_retry_after=settings.max_retry_after_s,
        pool_maxsize=pool_maxsize,
    )
    return VercelClient(
        session,
        creds.vercel_token,
        creds.vercel_api_url,
        team_id=creds.vercel_org_id,
        project_id=creds.vercel_project_id,
        backoff_s=settings.backoff_s,
    )
