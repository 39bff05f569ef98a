from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "vercel"))

from vercel_fake_api import PROJECT, TEAM, TOKEN, FakeClock, FakeVercel

from aikinklab_ops.http import make_session
from aikinklab_ops.vercel import VercelClient


@pytest.fixture
def fake(mocked_api: responses.RequestsMock) -> Iterator[FakeVercel]:
    api = FakeVercel(mocked_api)
    yield api
    assert api.problems == [], "requests or answers outside the Vercel contract:\n" + "\n".join(api.problems)


@pytest.fixture
def client() -> VercelClient:
    return VercelClient(
        make_session(retries=0), TOKEN, "https://api.vercel.com", team_id=TEAM, project_id=PROJECT, sleep=lambda s: None
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
