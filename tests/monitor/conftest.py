"""Fixtures for the monitor; helpers live in monitor_fakes (a unique module name)."""

from __future__ import annotations

import pytest
from monitor_fakes import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
