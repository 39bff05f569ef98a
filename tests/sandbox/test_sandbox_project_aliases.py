"""The project's ``sandboxAliases`` names every alias of the project, not just the production ones:
``pipeline`` looks an environment's domain up there to verify the sandbox instead of the real host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from test_sandbox_server import Client, site

from aikinklab_ops.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(build_delay=0.01, queue_delay=0.005) as sandbox:
        yield sandbox


def test_a_custom_alias_is_listed_in_the_projects_sandbox_aliases(sb: Sandbox) -> None:
    client = Client(sb)
    dep = client.wait_ready(client.deploy(site("staging"))["id"])
    resp = client.session.post(
        f"{client.base}/v2/deployments/{dep['id']}/aliases",
        json={"alias": "staging.aikinklab.com"},
        params=client.team,
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    project = client.session.get(
        f"{client.base}/v9/projects/{sb.settings.project_id}", params=client.team, timeout=5
    ).json()
    aliases = project["sandboxAliases"]
    assert aliases.get("staging.aikinklab.com") == sb.alias_url("staging.aikinklab.com")
    assert "www.aikinklab.com" in aliases, "the production domains stay listed"
    assert requests.get(aliases["staging.aikinklab.com"], timeout=5).text == "<h1>staging</h1>"
