"""Vercel answers an expired or revoked token with 403 ``invalidToken: true``: the hint must be about
the token, not about the team's scope."""

from __future__ import annotations

import json

import pytest

from aikinklab_ops.vercel.errors import decode_error


@pytest.mark.parametrize("team_scoped", [True, False])
def test_an_invalid_token_gets_the_token_hint(team_scoped: bool) -> None:
    body = json.dumps({"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}})
    err = decode_error(403, {}, body, operation="create deployment", team_scoped=team_scoped)
    assert err.hint and "expired or revoked" in err.hint and "vercel.com/account/tokens" in err.hint


def test_a_missing_token_gets_the_token_hint() -> None:
    body = json.dumps({"error": {"code": "forbidden", "message": "missing token", "missingToken": True}})
    err = decode_error(403, {}, body, operation="get project", team_scoped=True)
    assert err.hint and "VERCEL_TOKEN" in err.hint and "team" not in err.hint
