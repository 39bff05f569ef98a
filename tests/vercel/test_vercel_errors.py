"""decode_error: every error code the runbook meets gets a typed error and a next step."""

from __future__ import annotations

import json

import pytest

from aikinklab_ops.errors import ExternalError
from aikinklab_ops.vercel import decode_error


def body(code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, **extra}}).encode()


@pytest.mark.parametrize(
    ("status", "code", "team", "hint_part"),
    [
        (401, "not_authorized", False, "https://vercel.com/account/tokens"),
        (403, "forbidden", False, "set VERCEL_ORG_ID to the team id"),
        (403, "forbidden", True, "scope includes the team"),
        (404, "not_found", False, "VERCEL_PROJECT_ID"),
        (429, "rate_limited", False, "wait 7s"),
        (400, "missing_files", False, "upload the listed files"),
        (400, "deployment_not_ready", False, "READY"),
        (409, "alias_in_use", False, "environments.<env>.aliases"),
        (402, "payment_required", False, "Billing"),
        (409, "conflict", False, "in progress"),
        (500, "internal_server_error", False, "vercel-status"),
    ],
)
def test_codes_get_actionable_hints(status: int, code: str, team: bool, hint_part: str) -> None:
    err = decode_error(status, {"Retry-After": "7"}, body(code, "msg"), operation="op", team_scoped=team)
    assert isinstance(err, ExternalError) and err.exit_code == 3
    assert err.status == status and err.code == code
    assert hint_part in (err.hint or "")
    assert f"HTTP {status} ({code}): msg" in err.message


def test_missing_files_lists_the_shas() -> None:
    err = decode_error(
        400, {}, body("missing_files", "Missing files", missing=["a" * 40, "b" * 40]), operation="create"
    )
    assert err.missing == ("a" * 40, "b" * 40)


def test_retry_after_is_read() -> None:
    assert decode_error(429, {"Retry-After": "12"}, b"", operation="x").retry_after_s == 12.0
    assert decode_error(429, {"Retry-After": "soon"}, b"", operation="x").retry_after_s is None


def test_a_body_that_is_not_json_still_gives_a_clear_error() -> None:
    err = decode_error(502, {}, b"<html>Bad gateway</html>", operation="get deployment")
    assert err.code is None
    assert err.message == "Vercel: get deployment failed with HTTP 502"
