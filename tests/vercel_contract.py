"""Check requests and answers against the Vercel API contract subset (tests/data/contracts).

Shared by the sandbox tests and the Vercel client tests: ``from vercel_contract import ...``.
Every ``check_*`` returns a list of problems (empty = fits); ``assert_*`` fail the test with all
of them at once, so one run shows every mismatch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests

from aikinklab_ops.sandbox.app import Exchange
from aikinklab_ops.sandbox.contract import Contract

CONTRACT_PATH = Path(__file__).resolve().parent / "data" / "contracts" / "vercel-api-subset.json"


@lru_cache(maxsize=1)
def contract() -> Contract:
    return Contract.load(CONTRACT_PATH)


def document() -> dict[str, Any]:
    return json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))


def check_request(
    method: str,
    url: str,
    *,
    query: Mapping[str, str | list[str]] | Sequence[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    json_body: Any = None,
) -> list[str]:
    """Problems with a request: operation, path/query/header parameters, bearer token, body."""
    kwargs: dict[str, Any] = {"query": query, "headers": headers, "body": body}
    if json_body is not None:
        kwargs["json_body"] = json_body
    return contract().check_request(method, url, **kwargs)


def check_response(
    method: str,
    url: str,
    status: int,
    body: bytes | str | None = None,
    *,
    content_type: str | None = "application/json",
    json_body: Any = None,
) -> list[str]:
    """Problems with an answer: a documented status, and the body's schema (errors: Vercel's shape)."""
    kwargs: dict[str, Any] = {"content_type": content_type}
    if json_body is not None:
        kwargs["json_body"] = json_body
    return contract().check_response(method, url, status, body, **kwargs)


def check_prepared(request: requests.PreparedRequest) -> list[str]:
    """Problems with a request as ``requests`` sends it (e.g. ``responses.calls[i].request``)."""
    body = request.body
    if hasattr(body, "read"):
        raise TypeError("a streamed request body cannot be checked; pass bytes")
    raw = body.encode() if isinstance(body, str) else body
    return contract().check_request(
        request.method or "GET", request.url or "/", headers=dict(request.headers), body=raw or b""
    )


def check_mock_response(method: str, url: str, status: int, body: Any) -> list[str]:
    """Problems with a body a ``responses`` mock is about to return (a dict/list, or None)."""
    if body is None:
        return contract().check_response(method, url, status, b"")
    return contract().check_response(method, url, status, json_body=body)


def check_exchange(exchange: Exchange) -> list[str]:
    problems = contract().check_request(
        exchange.method, exchange.url, headers=dict(exchange.headers), body=exchange.body
    )
    problems += contract().check_response(
        exchange.method,
        exchange.url,
        exchange.status,
        exchange.response_body,
        content_type=exchange.content_type,
    )
    return problems


def assert_fits(problems: Iterable[str]) -> None:
    found = list(problems)
    assert not found, "contract violations:\n  " + "\n  ".join(found)


def assert_traffic_fits(traffic: Sequence[Exchange], *, allow_refused_requests: bool = False) -> None:
    """Every recorded request and answer fits the contract.

    ``allow_refused_requests`` skips the request check of exchanges the sandbox refused with a 4xx
    (a test that sends a bad request on purpose), still checking that the refusal fits.
    """
    assert traffic, "no traffic was recorded: the scenario proves nothing"
    problems: list[str] = []
    for i, exchange in enumerate(traffic):
        if allow_refused_requests and 400 <= exchange.status < 500:
            found = contract().check_response(
                exchange.method,
                exchange.url,
                exchange.status,
                exchange.response_body,
                content_type=exchange.content_type,
            )
        else:
            found = check_exchange(exchange)
        problems.extend(f"#{i} {exchange.method} {exchange.url}: {p}" for p in found)
    assert_fits(problems)
