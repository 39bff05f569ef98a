"""Latency and error rate, judged from one sampling pass."""

from __future__ import annotations

import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from verify_helpers import closed_port
from werkzeug import Request, Response

from aikinklab_ops.http import make_session
from aikinklab_ops.report import Status
from aikinklab_ops.verify.latency import (
    Sample,
    check_latency_and_errors,
    judge_error_rate,
    judge_latency,
    percentile,
)
from aikinklab_ops.verify.settings import LatencySettings, PageSpec


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10
    assert percentile(values, 95) == 19
    assert percentile(values, 100) == 20
    assert percentile([7.0], 95) == 7
    with pytest.raises(ValueError):
        percentile([], 50)


def test_p95_over_the_budget_fails_and_under_passes() -> None:
    samples = [Sample("home", float(ms), 200) for ms in [100] * 18 + [2500, 3000]]
    over = judge_latency(samples, LatencySettings(p95_ms=2000))
    assert over.status is Status.FAIL
    assert over.details["p95_ms"] == 2500
    under = judge_latency(samples, LatencySettings(p95_ms=2600))
    assert under.status is Status.PASS
    assert (under.details["p50_ms"], under.details["max_ms"]) == (100, 3000)


def test_no_answer_at_all_fails_latency() -> None:
    samples = [Sample("home", None, None, "refused")] * 3
    assert judge_latency(samples, LatencySettings()).status is Status.FAIL


def test_error_rate_budget() -> None:
    good = [Sample("home", 10.0, 200)] * 999
    one_bad = [*good, Sample("home", 10.0, 500, "HTTP 500, expected 200")]
    assert judge_error_rate(good, LatencySettings(max_error_percent=0.1)).status is Status.PASS
    at_budget = judge_error_rate(one_bad, LatencySettings(max_error_percent=0.1))
    assert at_budget.status is Status.FAIL  # 0.1 % is not under 0.1 %
    assert at_budget.details["failures"] == [{"page": "home", "status": 500, "error": "HTTP 500, expected 200"}]
    assert judge_error_rate(one_bad, LatencySettings(max_error_percent=0.2)).status is Status.PASS
    assert judge_error_rate(good, LatencySettings(max_error_percent=0)).status is Status.PASS


def test_sampling_round_robins_with_bounded_concurrency(httpserver: HTTPServer) -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def handler(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return Response("ok", status=500 if request.path == "/broken" else 200)

    httpserver.expect_request("/").respond_with_handler(handler)
    httpserver.expect_request("/broken").respond_with_handler(handler)
    pages = [PageSpec("/", "home"), PageSpec("/broken", "broken")]
    settings = LatencySettings(samples=8, concurrency=2, p95_ms=2000, max_error_percent=0.1)
    latency, errors = check_latency_and_errors(
        httpserver.url_for("/").rstrip("/"), make_session(retries=0), pages, settings, max_redirects=5, timeout=2
    )
    assert latency.status is Status.PASS
    assert latency.details["answered"] == 8
    assert errors.status is Status.FAIL
    assert (errors.details["failed"], errors.details["error_percent"]) == (4, 50.0)
    assert errors.details["failures"][0]["page"] == "broken"
    assert 1 <= state["peak"] <= 2


def test_transport_errors_count_as_errors_without_latency() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    latency, errors = check_latency_and_errors(
        url, make_session(retries=0), [PageSpec("/", "home")], LatencySettings(samples=3), max_redirects=5, timeout=1
    )
    assert latency.status is Status.FAIL
    assert latency.details["answered"] == 0
    assert errors.details["failed"] == 3
    assert "refused" in errors.summary
