"""A malformed GITHUB_API_URL is a warning with a fix on the deploy, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_deploy_cli import GH_TOKEN, REPO, app, cli, env
from vercel_fake_api import FakeVercel, deployment

from aikinklab_ops.errors import UsageError
from aikinklab_ops.github.deployments import GitHubDeployments


@pytest.mark.parametrize("url", ["api.github.example", "ftp://ghe.example/api/v3", "https://"])
def test_a_github_api_url_without_http_scheme_and_host_is_refused_with_a_fix(url: str) -> None:
    with pytest.raises(UsageError) as info:
        GitHubDeployments(GH_TOKEN, REPO, api_url=url)
    assert "GITHUB_API_URL" in str(info.value) and info.value.hint


def test_the_deploy_goes_on_and_warns(fake: FakeVercel, tmp_path: Path) -> None:
    app(tmp_path)
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_ok", state="READY"))
    code, out, err = cli(
        ["deploy", "--path", "web"],
        tmp_path,
        env(GITHUB_TOKEN=GH_TOKEN, GITHUB_REPOSITORY=REPO, GITHUB_API_URL="bogus", GITHUB_SHA="a" * 40),
    )
    assert code == 0, err
    assert "Traceback" not in err and "GITHUB_API_URL" in err
    assert "WARN" in out and "GITHUB_API_URL" in out, "the github check says so in the report"
    assert GH_TOKEN not in out + err
