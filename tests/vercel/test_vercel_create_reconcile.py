"""A create whose answer was lost, then a lookup that fails too: the error says a deployment may
exist (it may build and, for production, go live), and how to check before deploying again."""

from __future__ import annotations

import requests
from vercel_fake_api import FakeVercel, error

from aikinklab_ops.errors import ExternalError
from aikinklab_ops.vercel import REQUEST_KEY, VercelClient


def test_a_failed_lookup_after_a_lost_create_warns_that_it_may_exist(fake: FakeVercel, client: VercelClient) -> None:
    fake.add("POST", "/v13/deployments", raise_error=requests.exceptions.ReadTimeout("read timed out"))
    fake.add("GET", "/v7/deployments", status=503, json_body=error("service_unavailable", "down"))
    body = {"name": "aikinklab", "project": "prj_x", "files": [], "meta": {REQUEST_KEY: "k1"}}
    try:
        client.create_deployment(body)
    except ExternalError as err:
        text = str(err)
        assert err.exit_code == 3
        assert "may have been created" in text and "deployments list" in text
    else:  # pragma: no cover
        raise AssertionError("the lookup failure must be raised")
    assert len(fake.calls_to("POST", "/v13/deployments")) == 1, "never sent again without a successful lookup"
