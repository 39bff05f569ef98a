"""The health check: the body must say healthy, and a slow start is waited out until a deadline."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from verify_helpers import closed_port
from werkzeug import Request, Response

from aikinklab_ops.http import make_session
from aikinklab_ops.report import Status
from aikinklab_ops.verify.health import check_health, judge_health
from aikinklab_ops.verify.settings import HealthSettings

JSON = {"Content-Type": "application/json"}
FAST = HealthSettings(deadline_s=0, retry_interval_s=0.02)


def body(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize("word", ["ok", "OK", "healthy", "Up", "pass"])
def test_healthy_words_pass_case_insensitively(word: str) -> None:
    verdict = judge_health(200, JSON, body({"status": word}), FAST)
    assert verdict.status is Status.PASS
    assert verdict.details["body_status"] == word


def test_degraded_is_a_warning_by_default_and_a_failure_when_configured() -> None:
    data = body({"status": "degraded", "checks": {"db": "ok", "cache": "down"}})
    warn = judge_health(200, JSON, data, FAST)
    assert warn.status is Status.WARN
    assert warn.details["failing_checks"] == {"cache": "down"}
    assert "cache=down" in warn.summary
    strict = judge_health(200, JSON, data, HealthSettings(degraded_is="fail"))
    assert strict.status is Status.FAIL


def test_html_with_200_is_a_failure_with_an_excerpt() -> None:
    verdict = judge_health(200, {"Content-Type": "text/html"}, b"<!doctype html><h1>Maintenance</h1>", FAST)
    assert verdict.status is Status.FAIL
    assert "not a JSON object (text/html)" in verdict.summary
    assert "Maintenance" in verdict.details["body_excerpt"]


@pytest.mark.parametrize(
    ("code", "payload", "words"),
    [
        (503, {"status": "ok"}, "HTTP 503"),
        (200, {"status": "down"}, '"down" is not a healthy value'),
        (200, {"state": "ok"}, "no 'status' field"),
        (200, ["ok"], "not a JSON object"),
        (200, {"status": None}, "null is not a healthy value"),
    ],
)
def test_unhealthy_answers_fail_with_the_reason(code: int, payload: object, words: str) -> None:
    verdict = judge_health(code, JSON, body(payload), FAST)
    assert verdict.status is Status.FAIL
    assert words in verdict.summary


def test_empty_body_fails() -> None:
    assert "empty body" in judge_health(200, JSON, b"", FAST).summary


def test_dotted_status_field_and_nested_subchecks() -> None:
    settings = HealthSettings(status_field="data.health")
    ok = judge_health(200, JSON, body({"data": {"health": "UP"}}), settings)
    assert ok.status is Status.PASS
    sub = judge_health(200, JSON, body({"data": {"health": "up"}, "checks": {"db": {"status": "down"}}}), settings)
    assert sub.status is Status.WARN
    assert sub.details["failing_checks"] == {"db": "down"}


def test_boolean_status_fields_are_judged() -> None:
    settings = HealthSettings(status_field="healthy")
    assert judge_health(200, JSON, body({"healthy": True}), settings).status is Status.PASS
    assert judge_health(200, JSON, body({"healthy": False}), settings).status is Status.FAIL


def test_redirect_is_reported_with_its_location() -> None:
    verdict = judge_health(307, {"Location": "https://vercel.com/login"}, b"", FAST)
    assert verdict.status is Status.FAIL
    assert verdict.details["location"] == "https://vercel.com/login"


def test_health_that_becomes_healthy_after_a_few_attempts(httpserver: HTTPServer) -> None:
    calls = {"n": 0}

    def handler(_request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return Response("starting", status=503)
        return Response(body({"status": "ok", "version": "1.2.3"}), content_type="application/json")

    httpserver.expect_request("/api/health").respond_with_handler(handler)
    settings = HealthSettings(deadline_s=5, retry_interval_s=0.02)
    result = check_health(httpserver.url_for("/").rstrip("/"), make_session(retries=0), settings, timeout=2)
    assert result.status is Status.PASS
    assert result.details["attempts"] == 3
    assert result.details["code"] == 200
    assert "after 3 attempts" in result.summary
    assert result.details["latency_ms"] >= 0


def test_health_gives_up_at_the_deadline(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/health").respond_with_data("no", status=502)
    settings = HealthSettings(deadline_s=0.15, retry_interval_s=0.02)
    result = check_health(httpserver.url_for("/").rstrip("/"), make_session(retries=0), settings, timeout=2)
    assert result.status is Status.FAIL
    assert result.details["attempts"] >= 2
    assert result.details["code"] == 502


def test_degraded_is_reported_at_once_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "degraded", "checks": {"db": "slow"}})
    settings = HealthSettings(deadline_s=5, retry_interval_s=0.5)
    result = check_health(httpserver.url_for("/").rstrip("/"), make_session(retries=0), settings, timeout=2)
    assert result.status is Status.WARN
    assert result.details["attempts"] == 1
    assert result.details["failing_checks"] == {"db": "slow"}


def test_refused_connection_is_a_clear_failure() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = check_health(url, make_session(retries=0), FAST, timeout=1)
    assert result.status is Status.FAIL
    assert "refused" in result.summary
    assert result.details["code"] is None
