"""Regressions found by sending the local site host requests a browser never would."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from aikinklab_ops.site.server import SiteServer, folder

VERCEL = {
    "redirects": [{"source": "/old/:path*", "destination": "/new/:path*"}],
    "headers": [{"source": "/h/:name", "headers": [{"key": "X-Name", "value": ":name"}]}],
}


def _raw(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize("target", ["/old/%0d%0aSet-Cookie:%20injected=1", "/h/x%0d%0aSet-Cookie:%20injected=1"])
def test_an_encoded_crlf_in_the_path_cannot_inject_a_header(tmp_path: Path, target: str) -> None:
    (tmp_path / "index.html").write_text("<h1>x</h1>")
    (tmp_path / "vercel.json").write_text(json.dumps(VERCEL))
    with SiteServer(folder(tmp_path)) as srv:
        answer = _raw(srv.port, target)
    head = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert not any(line.lower().startswith(b"set-cookie") for line in head), head
    assert any(b"%0D%0A" in line for line in head), head


def test_a_redirect_location_is_ascii_on_the_wire(tmp_path: Path) -> None:
    (tmp_path / "vercel.json").write_text(json.dumps(VERCEL))
    with SiteServer(folder(tmp_path)) as srv:
        answer = _raw(srv.port, "/old/caf%C3%A9")
    location = next(line for line in answer.split(b"\r\n") if line.lower().startswith(b"location:"))
    assert location == b"Location: /new/caf%C3%A9"
