"""Ctrl-C (or a cancelled workflow's SIGINT) while waiting cancels the build, like a timeout does,
so a deploy the operator stopped cannot go live afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from vercel_fake_api import FakeClock, FakeVercel, deployment

from aikinklab_ops.deploy import DeployRequest, DeploySettings, EnvironmentTarget, PollPolicy, deploy
from aikinklab_ops.vercel import VercelClient

PRODUCTION = EnvironmentTarget("production", vercel_target="production", branch="main")


def _interrupt(_seconds: float) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("cancel", [True, False])
def test_an_interrupted_wait_cancels_the_build_then_stops(
    fake: FakeVercel, client: VercelClient, clock: FakeClock, tmp_path: Path, cancel: bool
) -> None:
    (tmp_path / "index.html").write_text("hi")
    fake.add("POST", "/v13/deployments", json_body=deployment("dpl_i", state="BUILDING", target="production"))
    fake.add("PATCH", "/v12/deployments/dpl_i/cancel", json_body=deployment("dpl_i", state="CANCELED"))
    said: list[str] = []
    settings = DeploySettings(poll=PollPolicy((1.0,), 1), hash_workers=1, cancel_on_timeout=cancel)
    with pytest.raises(KeyboardInterrupt):
        deploy(
            settings,
            client,
            DeployRequest(path=tmp_path, environment=PRODUCTION),
            log=said.append,
            sleep=_interrupt,
            clock=clock,
        )
    canceled = fake.calls_to("PATCH", "/v12/deployments/dpl_i/cancel")
    assert len(canceled) == (1 if cancel else 0)
    assert any("dpl_i" in line and ("canceled" in line if cancel else "may still go live" in line) for line in said)
