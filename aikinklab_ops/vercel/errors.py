"""Decoding Vercel's error answers: a pure function over ``(status, headers, body)``.

Vercel answers errors as ``{"error": {"code": "...", "message": "..."}}``. The decoded error keeps
the API's code (so callers branch on ``err.code``) and carries a hint that says what the operator
should do next. Nothing here ever sees the token, so nothing here can leak it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aikinklab_ops.errors import ApiError, ExternalError

SERVICE = "Vercel"


class VercelApiError(ApiError):
    """Vercel answered with an error; ``missing`` holds the SHAs of a ``missing_files`` answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
        missing: tuple[str, ...] = (),
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, service=SERVICE, status=status, code=code, hint=hint)
        self.missing = missing
        self.retry_after_s = retry_after_s


class VercelTransportError(ExternalError):
    """No usable answer from Vercel: connection refused or dropped, timeout, TLS failure.

    ``maybe_processed`` is true when the request may have reached Vercel (the connection dropped
    after sending, or the answer timed out), so a non-idempotent call must be reconciled, not
    repeated blindly.
    """

    def __init__(self, message: str, *, maybe_processed: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.maybe_processed = maybe_processed


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _hint(
    status: int,
    code: str | None,
    operation: str,
    *,
    team_scoped: bool,
    retry_after: float | None,
    bad_token: bool = False,
) -> str:
    if bad_token or status == 401 or code in ("invalid_token", "not_authorized", "unauthorized"):
        return (
            "VERCEL_TOKEN is missing, expired or revoked: create a token at https://vercel.com/account/tokens "
            "and store it as the VERCEL_TOKEN secret"
        )
    if status == 403 or code == "forbidden":
        if team_scoped:
            return (
                "the token has no access to this team or project: check that the token's scope includes the team "
                "named by VERCEL_ORG_ID and that VERCEL_PROJECT_ID belongs to it"
            )
        return (
            "if the project belongs to a team, set VERCEL_ORG_ID to the team id (team_…); otherwise give the "
            "token access to this project"
        )
    if code == "missing_files":
        return "upload the listed files (POST /v2/files) and create the deployment again"
    if code == "deployment_not_ready":
        return "wait until the deployment is READY (aikinklab-ops deployments list) and try again"
    if code in ("alias_in_use", "domain_taken", "not_domain_owner") or (status == 409 and "alias" in operation):
        return (
            "the domain is assigned to another project or team: remove it there (Vercel → Domains) or change "
            "environments.<env>.aliases in ops.yml"
        )
    if status == 404 or code == "not_found":
        return (
            "check VERCEL_PROJECT_ID (and VERCEL_ORG_ID for a team project) and the deployment id or URL "
            "(aikinklab-ops deployments list shows what exists)"
        )
    if status == 429 or code == "rate_limited":
        wait = f"wait {retry_after:.0f}s and " if retry_after else "wait a few minutes and "
        return f"Vercel is rate limiting this token: {wait}run again; a lower --concurrency sends fewer requests"
    if status == 402:
        return "the Vercel account needs a valid payment method or a plan that allows this (Vercel → Billing)"
    if status == 409:
        return "another promote, rollback or deployment change is in progress: wait for it and try again"
    if status >= 500:
        return "Vercel had an internal error: try again in a few minutes; see https://www.vercel-status.com"
    return "check the request's inputs named in the message"


def decode_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str | None,
    *,
    operation: str,
    team_scoped: bool = False,
) -> VercelApiError:
    """Turn an error answer into a typed error with an actionable hint."""
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    error = data.get("error") if isinstance(data, dict) else None
    code: str | None = None
    message: str | None = None
    missing: tuple[str, ...] = ()
    bad_token = False
    if isinstance(error, dict):
        code = str(error["code"]) if error.get("code") is not None else None
        message = str(error["message"]) if error.get("message") is not None else None
        # Vercel flags a 403 that is about the token itself (expired, revoked, absent).
        bad_token = error.get("invalidToken") is True or error.get("missingToken") is True
        raw_missing = error.get("missing")
        if isinstance(raw_missing, list):
            missing = tuple(str(s) for s in raw_missing)
    retry_after = retry_after_seconds(headers)
    text = f"{SERVICE}: {operation} failed with HTTP {status}"
    if code:
        text += f" ({code})"
    if message:
        text += f": {message}"
    return VercelApiError(
        text,
        status=status,
        code=code,
        hint=_hint(status, code, operation, team_scoped=team_scoped, retry_after=retry_after, bad_token=bad_token),
        missing=missing,
        retry_after_s=retry_after,
    )
