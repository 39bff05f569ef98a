"""The security-headers check against real servers on 127.0.0.1, over HTTP and HTTPS (trustme).

The repeated header lines are sent for real, as separate lines on the wire, because requests
merges them and the grade depends on seeing them as the Observatory does.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aikinklab_ops.http import make_session
from aikinklab_ops.report import Status
from aikinklab_ops.verify.headers import check_security_headers, http_url_for, probe_http_redirection

HTML = "text/html; charset=utf-8"
PAGE = "<!doctype html><html><head><title>t</title></head><body></body></html>"
STRONG = [
    ("Content-Security-Policy", "default-src 'self'; object-src 'none'; frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=()"),
]
DEFAULTS: dict[str, Any] = {"min_grade": "B", "require": ["permissions-policy"], "forbid": ["x-powered-by"]}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def _tls_server(ca: trustme.CA) -> Iterator[HTTPServer]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_server(_tls_server: HTTPServer) -> Iterator[HTTPServer]:
    yield _tls_server
    _tls_server.clear()


@pytest.fixture
def tls_session(ca_file: str) -> Iterator[requests.Session]:
    with make_session(retries=0, verify=ca_file) as s:
        yield s


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with make_session(retries=0) as s:
        yield s


def serve(server: HTTPServer, headers: list[tuple[str, str]], path: str = "/", body: str = PAGE) -> str:
    server.expect_request(path).respond_with_data(body, headers=headers, content_type=HTML)
    return server.url_for(path)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def by_test(details: Any) -> dict[str, dict[str, Any]]:
    return {t["test"]: t for t in details["tests"]}


def warning_codes(details: Any) -> list[str]:
    return [w["code"] for w in details["warnings"]]


def test_repeated_header_lines_on_the_wire_are_graded_as_the_observatory_does(
    httpserver: HTTPServer, session: requests.Session
) -> None:
    url = serve(
        httpserver,
        [
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    result = check_security_headers(url, session, DEFAULTS, timeout=5)
    tests = by_test(result.details)
    assert tests["x-frame-options"]["result"] == "x-frame-options-header-invalid"
    assert tests["x-content-type-options"]["result"] == "x-content-type-options-header-invalid"
    assert "sent 2 times" in tests["x-frame-options"]["reason"]
    assert warning_codes(result.details).count("header-repeated") == 2


def test_plain_http_target_on_a_test_port(httpserver: HTTPServer, session: requests.Session) -> None:
    result = check_security_headers(serve(httpserver, STRONG), session, DEFAULTS, timeout=5)
    tests = by_test(result.details)
    assert tests["strict-transport-security"]["result"] == "hsts-not-implemented-no-https"
    assert tests["redirection"]["result"] == "redirection-not-applicable"
    assert tests["redirection"]["score_modifier"] == 0
    assert result.details["http_redirection"] is None
    # 100 - 20 (no HTTPS, so no HSTS): below 90, so the CSP, referrer and frame-ancestors bonuses do not count
    assert (result.details["score"], result.details["grade"]) == (80, "B+")
    assert result.status is Status.PASS
    assert result.name == "security-headers"


def test_https_target_with_strong_headers_passes(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, STRONG)
    assert url.startswith("https://127.0.0.1:")
    result = check_security_headers(url, tls_session, DEFAULTS, timeout=5)
    tests = by_test(result.details)
    assert tests["strict-transport-security"]["result"] == "hsts-implemented-max-age-at-least-six-months"
    assert tests["x-frame-options"]["result"] == "x-frame-options-implemented-via-csp"
    assert tests["redirection"]["result"] == "redirection-not-applicable"
    assert (result.details["score"], result.details["grade"]) == (115, "A+")
    assert (result.status, result.details["warnings"]) == (Status.PASS, [])
    assert result.summary == "grade A+ (115/100), minimum B"
    assert len(result.details["tests"]) == 10
    assert all({"test", "result", "score_modifier", "pass", "reason"} <= set(t) for t in result.details["tests"])


def test_insecure_scheme_in_csp_counts_on_an_https_page(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    headers = [*STRONG[1:], ("Content-Security-Policy", "default-src 'self'; object-src 'none'; img-src http:")]
    result = check_security_headers(serve(tls_server, headers), tls_session, DEFAULTS, timeout=5)
    got = by_test(result.details)["content-security-policy"]
    assert (got["result"], got["score_modifier"]) == (
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
        -10,
    )


@pytest.mark.parametrize(("min_grade", "status"), [("B", Status.FAIL), ("C", Status.WARN)])
def test_min_grade_decides(
    tls_server: HTTPServer, tls_session: requests.Session, min_grade: str, status: Status
) -> None:
    url = serve(tls_server, [("Strict-Transport-Security", "max-age=63072000")])
    result = check_security_headers(url, tls_session, {**DEFAULTS, "min_grade": min_grade}, timeout=5)
    assert (result.details["grade"], result.details["score"]) == ("C", 50)
    assert result.status is status
    if status is Status.FAIL:
        assert "below the minimum B" in result.summary
        assert "csp-not-implemented (-25)" in result.summary


def test_min_grade_defaults_to_b(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, [("Strict-Transport-Security", "max-age=63072000")])
    result = check_security_headers(url, tls_session, {}, timeout=5)
    assert (result.details["min_grade"], result.status) == ("B", Status.FAIL)


def test_missing_required_header_warns_and_lists_it(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, STRONG[:-1])
    settings = {**DEFAULTS, "require": ["permissions-policy", "cross-origin-opener-policy"]}
    result = check_security_headers(url, tls_session, settings, timeout=5)
    assert result.status is Status.WARN
    assert result.details["missing_required"] == ["permissions-policy", "cross-origin-opener-policy"]
    assert "permissions-policy, cross-origin-opener-policy" in result.details["warnings"][0]["message"]
    assert result.details["grade"] == "A+"  # a runbook requirement never changes the Observatory grade


def test_forbidden_header_warns_that_it_leaks(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, [*STRONG, ("X-Powered-By", "Next.js")])
    result = check_security_headers(url, tls_session, DEFAULTS, timeout=5)
    assert result.status is Status.WARN
    assert result.details["forbidden_present"] == ["x-powered-by"]
    assert "x-powered-by: Next.js leaks implementation details" in result.details["warnings"][0]["message"]


def test_empty_require_and_forbid_check_nothing(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, [*STRONG[:-1], ("X-Powered-By", "Next.js")])
    result = check_security_headers(url, tls_session, {"require": [], "forbid": []}, timeout=5)
    assert (result.status, result.details["warnings"]) == (Status.PASS, [])


def test_cors_preflight_that_reflects_the_origin_with_credentials(
    tls_server: HTTPServer, tls_session: requests.Session
) -> None:
    seen: list[Request] = []

    def preflight(request: Request) -> Response:
        seen.append(request)
        return Response(
            "",
            headers=[
                ("Access-Control-Allow-Origin", request.headers.get("Origin", "")),
                ("Access-Control-Allow-Credentials", "true"),
            ],
        )

    tls_server.expect_request("/", method="OPTIONS").respond_with_handler(preflight)
    url = serve(tls_server, STRONG)
    result = check_security_headers(url, tls_session, DEFAULTS, timeout=5)
    got = by_test(result.details)["cross-origin-resource-sharing"]
    assert (got["result"], got["score_modifier"]) == (
        "cross-origin-resource-sharing-implemented-with-universal-access",
        -50,
    )
    assert seen[0].headers["Origin"] == "https://http-observatory.security.mozilla.org"
    assert seen[0].headers["Access-Control-Request-Method"] == "GET"
    assert result.status is Status.FAIL


def test_cookies_set_along_the_redirect_chain_are_graded(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    tls_server.expect_request("/old").respond_with_data(
        "", status=301, headers=[("Location", "/new"), ("Set-Cookie", "sessionid=abc; Path=/; HttpOnly")]
    )
    serve(tls_server, [*STRONG, ("Set-Cookie", "theme=dark; Path=/; Secure; SameSite=Lax")], path="/new")
    result = check_security_headers(tls_server.url_for("/old"), tls_session, DEFAULTS, timeout=5)
    got = by_test(result.details)["cookies"]
    assert got["result"] == "cookies-session-without-secure-flag-but-protected-by-hsts"
    assert "sessionid" in got["reason"]
    assert [u.rsplit("/", 1)[1] for u in result.details["redirects"]] == ["old", "new"]


def test_xsrf_cookie_on_the_wire_warns(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    url = serve(tls_server, [*STRONG, ("Set-Cookie", "XSRF-TOKEN=t; Path=/; Secure")])
    result = check_security_headers(url, tls_session, DEFAULTS, timeout=5)
    assert "cookie-anticsrf-without-samesite" in warning_codes(result.details)
    assert result.status is Status.WARN


def test_meta_csp_in_the_served_body_counts(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    body = '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'"></head></html>'
    url = serve(tls_server, STRONG[1:], body=body)
    result = check_security_headers(url, tls_session, DEFAULTS, timeout=5)
    got = by_test(result.details)["content-security-policy"]
    assert got["result"] == "csp-implemented-with-no-unsafe-default-src-none"


def test_an_error_page_is_graded_but_flagged(tls_server: HTTPServer, tls_session: requests.Session) -> None:
    tls_server.expect_request("/").respond_with_data("no", status=401, headers=STRONG, content_type=HTML)
    result = check_security_headers(tls_server.url_for("/"), tls_session, DEFAULTS, timeout=5)
    assert (result.details["status"], result.details["grade"], result.status) == (401, "A+", Status.WARN)
    assert "HTTP 401" in result.details["warnings"][0]["message"]


def test_a_page_in_an_unknown_charset_is_still_read(httpserver: HTTPServer, session: requests.Session) -> None:
    body = "<html><head><meta name='referrer' content='no-referrer'></head></html>"
    httpserver.expect_request("/").respond_with_data(body, content_type="text/html; charset=x-no-such-charset")
    result = check_security_headers(httpserver.url_for("/"), session, DEFAULTS, timeout=5)
    assert by_test(result.details)["referrer-policy"]["result"] == "referrer-policy-private"


def test_refused_connection_fails_with_a_reason(session: requests.Session) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    result = check_security_headers(url, session, DEFAULTS, timeout=5)
    assert result.status is Status.FAIL
    assert "refused" in result.summary
    assert "Traceback" not in result.summary
    assert "grade" not in result.details


def test_untrusted_certificate_fails_with_the_tls_reason(tls_server: HTTPServer, session: requests.Session) -> None:
    result = check_security_headers(serve(tls_server, STRONG), session, DEFAULTS, timeout=5)
    assert result.status is Status.FAIL
    assert result.summary.startswith("TLS handshake with https://127.0.0.1:")


def test_credentials_in_the_url_never_reach_the_result(session: requests.Session) -> None:
    url = f"http://deploy:hunter2secret@127.0.0.1:{closed_port()}/?token=s3cr3t-value"
    result = check_security_headers(url, session, DEFAULTS, timeout=5)
    text = repr(result)
    assert "hunter2secret" not in text
    assert "s3cr3t-value" not in text


def test_a_token_in_the_target_url_is_masked_in_a_graded_result(
    httpserver: HTTPServer, session: requests.Session
) -> None:
    url = serve(httpserver, STRONG) + "?token=s3cr3t-value"
    result = check_security_headers(url, session, DEFAULTS, timeout=5)
    assert result.details["grade"] == "B+"
    assert "s3cr3t-value" not in repr(result)


def test_unknown_min_grade_is_a_config_error(httpserver: HTTPServer, session: requests.Session) -> None:
    from aikinklab_ops.errors import ConfigError

    with pytest.raises(ConfigError, match="not a grade"):
        check_security_headers(serve(httpserver, STRONG), session, {"min_grade": "E"}, timeout=5)


# --- the http:// -> https:// probe ----------------------------------------------------------------


def test_http_url_for_keeps_the_path_and_drops_what_must_not_travel_in_clear_text() -> None:
    plain = http_url_for("https://deploy:pw@www.aikinklab.com:443/pricing?token=s3cr3t")
    assert plain == "http://www.aikinklab.com/pricing"
    assert http_url_for("https://[::1]/") == "http://[::1]/"


def test_probe_follows_http_to_https(httpserver: HTTPServer, tls_server: HTTPServer, ca_file: str) -> None:
    target = serve(tls_server, STRONG)
    httpserver.expect_request("/").respond_with_data("", status=301, headers=[("Location", target)])
    probe = probe_http_redirection(httpserver.url_for("/"), verify=ca_file, timeout=5)
    assert [(h.url, h.status) for h in probe.chain or ()] == [(httpserver.url_for("/"), 301), (target, 200)]
    assert (probe.available, probe.cert_valid) == (True, None)


def test_probe_records_a_redirect_onto_a_bad_certificate(httpserver: HTTPServer, tls_server: HTTPServer) -> None:
    target = serve(tls_server, STRONG)
    httpserver.expect_request("/").respond_with_data("", status=301, headers=[("Location", target)])
    probe = probe_http_redirection(httpserver.url_for("/"), verify=True, timeout=5)
    assert probe.cert_valid is False
    assert probe.note and "TLS handshake" in probe.note


def test_probe_of_a_closed_port_means_no_http() -> None:
    probe = probe_http_redirection(f"http://127.0.0.1:{closed_port()}/", verify=True, timeout=5)
    assert (probe.available, probe.chain) == (False, ())
    assert probe.note and "refused" in probe.note


def test_probe_stops_at_a_redirect_loop(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("", status=302, headers=[("Location", "/")])
    probe = probe_http_redirection(httpserver.url_for("/"), verify=True, timeout=5)
    assert probe.chain is not None and len(probe.chain) == 11
    assert all(h.status == 302 for h in probe.chain)
