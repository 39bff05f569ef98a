"""Fixtures for incidents; the helpers live in incident_fakes (a unique module name)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from aiosmtpd.controller import Controller
from incident_fakes import FakeGitHub, Mailbox, SmtpServer, _authenticator, free_port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (no TLS, optional AUTH accepted over plain text for the test)."""
    box = Mailbox()
    logins: list[tuple[str, str]] = []
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator(logins),
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, box, logins)
    finally:
        controller.stop()


@pytest.fixture
def fake_github(mocked_api: responses.RequestsMock) -> FakeGitHub:
    return FakeGitHub(mocked_api)
