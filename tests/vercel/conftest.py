from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from vercel_fake_api import PROJECT, TEAM, TOKEN, FakeVercel

from aikinklab_ops.http import make_session
from aikinklab_ops.vercel import VercelClient


@pytest.fixture
def fake(mocked_api: responses.RequestsMock) -> Iterator[FakeVercel]:
    api = FakeVercel(mocked_api)
    yield api
    assert api.problems == [], "requests or answers outside the Vercel contract:\n" + "\n".join(api.problems)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> VercelClient:
    return VercelClient(
        make_session(retries=0), TOKEN, "https://api.vercel.com", team_id=TEAM, project_id=PROJECT, sleep=sleeps.append
    )
