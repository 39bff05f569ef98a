"""Test-wide rules: no request leaves the machine.

Every test runs inside a ``responses`` mock that lets through only loopback URLs (real servers on
127.0.0.1 are the point of most tests); anything else that ``requests`` sends without a
registered mock fails the test. A socket guard catches what does not go through ``requests``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = Path(__file__).resolve().parent / "data"

_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX and the like
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise OSError(f"test tried to reach {address!r}: only loopback is allowed")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def mocked_api() -> Iterator[responses.RequestsMock]:
    """The Vercel/GitHub API mock; loopback passes through to real servers."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        rsps.add_passthru("https://127.0.0.1")
        rsps.add_passthru("http://localhost")
        rsps.add_passthru("https://localhost")
        yield rsps


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared test data folder {SHARED} is missing (it sits beside the repository)")
    return SHARED
