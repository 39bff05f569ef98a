"""A token pasted with a line break or spaces is bad input named as such (exit 2), before any
request: requests would refuse the header and the failure would read like a network problem."""

from __future__ import annotations

import pytest

from aikinklab_ops.errors import UsageError
from aikinklab_ops.http import make_session
from aikinklab_ops.vercel import VercelClient


@pytest.mark.parametrize("token", ["s3cretT0kenValue\n", " s3cretT0kenValue", "s3cret T0kenValue", "s3cret\x01T0ken"])
def test_a_token_with_whitespace_or_control_characters_is_refused(token: str) -> None:
    with pytest.raises(UsageError) as info:
        VercelClient(make_session(retries=0), token, "https://api.vercel.com", project_id="prj_1")
    text = str(info.value)
    assert info.value.exit_code == 2 and "VERCEL_TOKEN" in text and "line break" in text
    assert "s3cret" not in text, "the message never carries the token"
