"""The session factory against a real loopback server: retries, Retry-After, idempotency."""

from __future__ import annotations

import time

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aikinklab_ops import __version__
from aikinklab_ops.http import describe_transport_error, make_session
from aikinklab_ops.secrets import Redactor, redact_url


def counting(responses_: list[Response]):  # type: ignore[no-untyped-def]
    calls: list[Request] = []

    def handler(request: Request) -> Response:
        calls.append(request)
        return responses_[min(len(calls) - 1, len(responses_) - 1)]

    return calls, handler


def test_user_agent_names_the_tool(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("ok")
    session = make_session()
    session.get(httpserver.url_for("/"))
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith(f"aikinklab-ops/{__version__}")


def test_get_is_retried_on_503_honouring_retry_after(httpserver: HTTPServer) -> None:
    calls, handler = counting([Response("busy", 503, headers={"Retry-After": "1"}), Response("ok", 200)])
    httpserver.expect_request("/").respond_with_handler(handler)
    t0 = time.monotonic()
    resp = make_session(backoff_factor=0).get(httpserver.url_for("/"))
    assert resp.status_code == 200
    assert len(calls) == 2
    assert time.monotonic() - t0 >= 0.9  # it waited as told


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    _, handler = counting([Response("slow down", 429, headers={"Retry-After": "3600"}), Response("ok", 200)])
    httpserver.expect_request("/").respond_with_handler(handler)
    t0 = time.monotonic()
    resp = make_session(max_retry_after=0.2).get(httpserver.url_for("/"))
    assert resp.status_code == 200
    assert time.monotonic() - t0 < 5


def test_post_is_not_retried_on_500(httpserver: HTTPServer) -> None:
    calls, handler = counting([Response("oops", 500), Response("ok", 200)])
    httpserver.expect_request("/create", method="POST").respond_with_handler(handler)
    resp = make_session(backoff_factor=0).post(httpserver.url_for("/create"), json={})
    assert resp.status_code == 500
    assert len(calls) == 1


def test_post_is_retried_on_429(httpserver: HTTPServer) -> None:
    calls, handler = counting([Response("", 429, headers={"Retry-After": "0"}), Response("made", 201)])
    httpserver.expect_request("/create", method="POST").respond_with_handler(handler)
    resp = make_session(backoff_factor=0).post(httpserver.url_for("/create"), json={})
    assert resp.status_code == 201
    assert len(calls) == 2


def test_default_timeout_applies(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    url = httpserver.url_for("/slow")
    with pytest.raises(requests.RequestException) as info:
        make_session(timeout=(1, 0.2), retries=0).get(url)
    assert describe_transport_error(info.value, url) == f"{url} did not answer in time"


def test_refused_connection_reads_as_a_sentence() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}/x?token=abcdef123456"
    with pytest.raises(requests.RequestException) as info:
        make_session(retries=0).get(url)
    message = describe_transport_error(info.value, url)
    assert "refused" in message
    assert "abcdef123456" not in message


def test_redaction() -> None:
    r = Redactor(["tok_1234567890"])
    assert r("Authorization: Bearer tok_1234567890") == "Authorization: Bearer ***"
    assert r("call failed with tok_1234567890 in it") == "call failed with *** in it"
    assert r("short ab") == "short ab"
    assert redact_url("https://u:pw@h/p?teamId=t1&token=xyz") == "https://u:***@h/p?teamId=t1&token=***"
