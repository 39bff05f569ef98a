"""Critical pages: status, text, time, and redirect chains that are evidence when they break."""

from __future__ import annotations

import time

from pytest_httpserver import HTTPServer
from verify_helpers import closed_port
from werkzeug import Request, Response

from aikinklab_ops.http import make_session
from aikinklab_ops.report import Status
from aikinklab_ops.verify.pages import Fetched, Hop, check_pages, judge_page
from aikinklab_ops.verify.settings import PageSpec


def base(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/").rstrip("/")


def run(httpserver: HTTPServer, *pages: PageSpec, max_redirects: int = 5):  # type: ignore[no-untyped-def]
    return check_pages(base(httpserver), make_session(retries=0), pages, max_redirects=max_redirects, timeout=2)


def redirect(to: str, code: int = 308) -> Response:
    return Response("", status=code, headers={"Location": to})


def test_judge_page_reasons() -> None:
    ok = Fetched((Hop("u", 200),), b"Welcome to AIKinkLab", 12.0)
    assert judge_page(PageSpec("/", "home"), ok) is None
    assert judge_page(PageSpec("/", "home", 404), ok) == "HTTP 200, expected 404"
    assert "does not contain 'Pricing'" in (judge_page(PageSpec("/", "home", contains="Pricing"), ok) or "")
    assert "over max_ms 10" in (judge_page(PageSpec("/", "home", max_ms=10), ok) or "")


def test_all_pages_pass_and_redirects_are_followed_with_the_chain(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("<h1>AIKinkLab</h1>", content_type="text/html")
    httpserver.expect_request("/old").respond_with_response(redirect("/middle", 301))
    httpserver.expect_request("/middle").respond_with_response(redirect("/pricing"))
    httpserver.expect_request("/pricing").respond_with_data("Pricing plans")
    result = run(httpserver, PageSpec("/", "home", contains="AIKinkLab"), PageSpec("/old", "old", contains="Pricing"))
    assert result.status is Status.PASS, result.summary
    old = result.details["pages"][1]
    assert old["status"] == 200
    assert [c.split(" ", 1)[0] for c in old["chain"]] == ["301", "308", "200"]
    assert old["chain"][-1].endswith("/pricing")


def test_a_failing_page_is_named_in_the_summary(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("home")
    httpserver.expect_request("/checkout").respond_with_data("boom", status=500)
    result = run(httpserver, PageSpec("/", "home"), PageSpec("/checkout", "checkout"))
    assert result.status is Status.FAIL
    assert result.summary.startswith("1 of 2 pages failing: checkout (HTTP 500, expected 200)")
    assert result.details["failing"] == ["checkout"]
    assert result.details["pages"][0]["result"] == "pass"


def test_redirect_loop_fails_with_the_chain(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_response(redirect("/b"))
    httpserver.expect_request("/b").respond_with_response(redirect("/a"))
    result = run(httpserver, PageSpec("/a", "loop"))
    assert result.status is Status.FAIL
    page = result.details["pages"][0]
    assert "redirect loop back to" in page["reason"]
    assert len(page["chain"]) == 2


def test_chain_over_the_cap_fails(httpserver: HTTPServer) -> None:
    for i in range(6):
        httpserver.expect_request(f"/r{i}").respond_with_response(redirect(f"/r{i + 1}", 302))
    httpserver.expect_request("/r6").respond_with_data("finally")
    result = run(httpserver, PageSpec("/r0", "long"), max_redirects=3)
    assert result.status is Status.FAIL
    page = result.details["pages"][0]
    assert page["reason"] == "more than 3 redirects (verify.max_redirects)"
    assert len(page["chain"]) == 4
    within = run(httpserver, PageSpec("/r0", "long"), max_redirects=6)
    assert within.status is Status.PASS


def test_an_expected_redirect_is_checked_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/home").respond_with_response(redirect("/"))
    result = run(httpserver, PageSpec("/home", "home redirect", 308))
    assert result.status is Status.PASS
    assert result.details["pages"][0]["status"] == 308


def test_slow_page_over_max_ms_fails(httpserver: HTTPServer) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(0.12)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    result = run(httpserver, PageSpec("/slow", "slow", max_ms=50))
    assert result.status is Status.FAIL
    assert "over max_ms 50" in result.details["pages"][0]["reason"]
    assert result.details["pages"][0]["ms"] >= 120


def test_refused_connection_fails_each_page_with_the_reason() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = check_pages(url, make_session(retries=0), [PageSpec("/", "home")], max_redirects=5, timeout=1)
    assert result.status is Status.FAIL
    assert "refused" in result.details["pages"][0]["reason"]


def test_no_pages_is_a_skip_not_a_pass() -> None:
    result = check_pages("http://127.0.0.1:1", make_session(retries=0), [], max_redirects=5, timeout=1)
    assert result.status is Status.SKIP


def test_a_page_that_does_not_answer_in_time_fails_with_the_timeout(httpserver: HTTPServer) -> None:
    def stuck(_request: Request) -> Response:
        time.sleep(0.4)
        return Response("too late")

    httpserver.expect_request("/stuck").respond_with_handler(stuck)
    result = check_pages(
        base(httpserver), make_session(retries=0), [PageSpec("/stuck", "stuck")], max_redirects=5, timeout=0.1
    )
    assert result.status is Status.FAIL
    assert "did not answer in time" in result.details["pages"][0]["reason"]
