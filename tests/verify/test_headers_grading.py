"""The grading rules beyond the recorded cases: the score arithmetic, each test's branches, and the
warnings the Observatory does not score.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from aikinklab_ops.verify.observatory import Grading, Hop, ScanContext, grade_for_score, grade_headers

URL = "https://www.example.com/"
TO_HTTPS = (Hop("http://www.example.com/", 301), Hop("https://www.example.com/", 200))
CTX = ScanContext(url=URL, http_redirect_chain=TO_HTTPS)
# A set that scores 100 before any bonus: every penalty avoided.
GOOD = [
    ("Content-Security-Policy", "default-src 'self'; object-src 'none'; frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


def grade(lines: list[tuple[str, str]], **ctx: object) -> Grading:
    return grade_headers(lines, replace(CTX, **ctx))  # type: ignore[arg-type]


def result(lines: list[tuple[str, str]], test: str, **ctx: object) -> tuple[str, int]:
    t = grade(lines, **ctx).test(test)
    return t.result, t.score_modifier


def without(name: str, lines: list[tuple[str, str]] = GOOD) -> list[tuple[str, str]]:
    return [(k, v) for k, v in lines if k.lower() != name.lower()]


def codes(g: Grading) -> list[str]:
    return [w.code for w in g.warnings]


# --- score arithmetic -------------------------------------------------------------------------


def test_bonus_counts_when_the_score_without_it_is_an_a() -> None:
    g = grade(GOOD)
    # csp +5, referrer +5, x-frame-options via csp +5
    assert (g.score, g.grade) == (115, "A+")


def test_bonus_still_counts_at_exactly_90() -> None:
    lines = [*without("X-Content-Type-Options"), ("Cross-Origin-Resource-Policy", "bogus")]
    g = grade(lines)
    assert [t.score_modifier for t in g.tests if t.score_modifier < 0] == [-5, -5]
    assert (g.score, g.grade) == (105, "A+")  # 90 before the +15 bonus


def test_bonus_is_dropped_below_90() -> None:
    g = grade(without("Strict-Transport-Security"))
    assert g.test("strict-transport-security").result == "hsts-not-implemented"
    assert (g.score, g.grade) == (80, "B+")  # not 95: the +15 bonus needs 90 without it


def test_score_never_goes_below_zero() -> None:
    lines = [
        ("Set-Cookie", "sessionid=1; Path=/"),
        ("Access-Control-Allow-Origin", "https://http-observatory.security.mozilla.org"),
        ("Access-Control-Allow-Credentials", "true"),
    ]
    g = grade(lines, https_available=False, http_redirect_chain=(Hop("http://www.example.com/", 200),))
    assert sum(t.score_modifier for t in g.tests) < -100
    assert (g.score, g.grade) == (0, "F")


@pytest.mark.parametrize(
    ("score", "grade_"),
    [
        (130, "A+"),
        (100, "A+"),
        (99, "A"),
        (90, "A"),
        (89, "A-"),
        (85, "A-"),
        (80, "B+"),
        (79, "B"),
        (70, "B"),
        (65, "B-"),
        (60, "C+"),
        (50, "C"),
        (45, "C-"),
        (40, "D+"),
        (30, "D"),
        (25, "D-"),
        (24, "F"),
        (0, "F"),
    ],
)
def test_grade_table(score: int, grade_: str) -> None:
    assert grade_for_score(score) == grade_


# --- repeated headers as a browser / node receives them ----------------------------------------


def test_two_csp_headers_are_two_policies_enforced_together() -> None:
    lines = [("Content-Security-Policy", "default-src 'self'"), ("Content-Security-Policy", "default-src 'none'")]
    assert result(lines, "content-security-policy") == ("csp-implemented-with-no-unsafe-default-src-none", 10)


def test_hsts_sent_twice_is_invalid() -> None:
    lines = [("Strict-Transport-Security", "max-age=63072000"), ("Strict-Transport-Security", "max-age=63072000")]
    assert result(lines, "strict-transport-security") == ("hsts-header-invalid", -20)


def test_referrer_policy_sent_twice_uses_the_last_valid_token() -> None:
    lines = [("Referrer-Policy", "no-referrer"), ("referrer-policy", "unsafe-url")]
    assert result(lines, "referrer-policy") == ("referrer-policy-unsafe", -5)


def test_repeated_identical_xfo_is_graded_invalid_but_explained() -> None:
    g = grade([("X-Frame-Options", "DENY"), ("x-frame-options", "deny")])
    assert g.test("x-frame-options").result == "x-frame-options-header-invalid"
    assert "header-repeated" in codes(g)


# --- content-security-policy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("script-src 'self'", ("csp-implemented-with-unsafe-inline", -20)),  # object-src falls back to *
        ("default-src 'self'; script-src 'self' 'unsafe-inline'", ("csp-implemented-with-unsafe-inline", -20)),
        ("default-src 'self'; script-src 'self' data:", ("csp-implemented-with-unsafe-inline", -20)),
        ("default-src 'self'; script-src http://cdn.example.net", ("csp-implemented-with-insecure-scheme", -20)),
        ("default-src 'self'; img-src http:", ("csp-implemented-with-insecure-scheme-in-passive-content-only", -10)),
        ("default-src 'self'; style-src 'unsafe-eval'", ("csp-implemented-with-unsafe-eval", -10)),
        ("default-src 'self'; style-src https:", ("csp-implemented-with-unsafe-inline-in-style-src-only", 0)),
        ("default-src 'none'", ("csp-implemented-with-no-unsafe-default-src-none", 10)),
        ("default-src 'none' 'self'", ("csp-implemented-with-no-unsafe", 5)),
        (
            "default-src 'self'; script-src 'nonce-abc' 'unsafe-inline' https: 'strict-dynamic'",
            ("csp-implemented-with-no-unsafe", 5),
        ),
        ("default-src 'self'; script-src 'sha256-abc' 'unsafe-inline'", ("csp-implemented-with-no-unsafe", 5)),
        ("default-src 'self'; script-src 'self' 'strict-dynamic'", ("csp-header-invalid", -25)),
        ("DEFAULT-SRC 'NONE'", ("csp-implemented-with-no-unsafe-default-src-none", 10)),
    ],
)
def test_csp_rules(policy: str, expected: tuple[str, int]) -> None:
    assert result([("Content-Security-Policy", policy)], "content-security-policy") == expected


def test_csp_default_self_covers_object_src() -> None:
    assert result([("Content-Security-Policy", "default-src 'self'")], "content-security-policy")[0] == (
        "csp-implemented-with-no-unsafe"
    )


def test_insecure_scheme_only_matters_on_an_https_page() -> None:
    lines = [("Content-Security-Policy", "default-src 'self'; img-src http:")]
    assert (
        result(lines, "content-security-policy", url="http://www.example.com:8080/")[0]
        == "csp-implemented-with-no-unsafe"
    )


def test_report_only_policy_is_not_a_policy() -> None:
    lines = [("Content-Security-Policy-Report-Only", "default-src 'none'")]
    assert result(lines, "content-security-policy") == ("csp-not-implemented-but-reporting-enabled", -25)


def test_meta_policy_alone_counts() -> None:
    body = "<html><head><meta http-equiv='content-security-policy' content=\"default-src 'none'\"></head></html>"
    assert result([], "content-security-policy", body_html=body) == (
        "csp-implemented-with-no-unsafe-default-src-none",
        10,
    )


def test_unparseable_csp_gives_no_frame_ancestors_credit() -> None:
    lines = [("Content-Security-Policy", "frame-ancestors 'none'; frame-ancestors 'self'")]
    assert result(lines, "x-frame-options") == ("x-frame-options-not-implemented", -20)


# --- warnings the Observatory does not score ---------------------------------------------------


@pytest.mark.parametrize("directive", ["script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem"])
def test_unsafe_inline_in_attr_and_elem_directives_warns_without_changing_the_score(directive: str) -> None:
    base = "default-src 'none'"
    lax = [("Content-Security-Policy", f"{base}; {directive} 'unsafe-inline'")]
    g = grade(lax)
    assert "csp-unsafe-inline-unscored" in codes(g)
    assert directive in g.warnings[0].message
    assert g.test("content-security-policy").result == "csp-implemented-with-no-unsafe-default-src-none"
    assert g.score == grade([("Content-Security-Policy", base)]).score


def test_unsafe_inline_neutralised_by_a_nonce_does_not_warn() -> None:
    g = grade([("Content-Security-Policy", "default-src 'none'; script-src-elem 'nonce-abc' 'unsafe-inline'")])
    assert "csp-unsafe-inline-unscored" not in codes(g)


def test_frame_ancestors_wildcard_warns_but_keeps_the_bonus() -> None:
    lines = [*without("Content-Security-Policy"), ("Content-Security-Policy", "default-src 'self'; frame-ancestors *")]
    g = grade(lines)
    assert g.test("x-frame-options").result == "x-frame-options-implemented-via-csp"
    assert "csp-frame-ancestors-wildcard" in codes(g)
    assert g.score == grade(GOOD).score


def test_frame_ancestors_restricted_does_not_warn() -> None:
    assert "csp-frame-ancestors-wildcard" not in codes(grade(GOOD))


def test_frame_ancestors_only_in_meta_is_credited_but_warned() -> None:
    body = "<html><head><meta http-equiv='Content-Security-Policy' content=\"frame-ancestors 'none'\"></head></html>"
    g = grade([], body_html=body)
    assert g.test("x-frame-options").result == "x-frame-options-implemented-via-csp"
    assert "csp-frame-ancestors-in-meta" in codes(g)


def test_redirection_reason_never_shows_a_token() -> None:
    chain = (Hop("http://www.example.com/?token=s3cr3t-value", 200),)
    assert "s3cr3t-value" not in grade(GOOD, http_redirect_chain=chain).test("redirection").reason


def test_allow_from_warns_and_scores_zero() -> None:
    g = grade([("X-Frame-Options", "ALLOW-FROM https://partner.example.net")])
    assert (g.test("x-frame-options").result, g.test("x-frame-options").score_modifier) == (
        "x-frame-options-allow-from-origin",
        0,
    )
    assert "xfo-allow-from-ignored" in codes(g)


@pytest.mark.parametrize("max_age", ['"31536000"', "abc", "31536000s"])
def test_hsts_max_age_that_is_not_a_number_warns(max_age: str) -> None:
    g = grade([("Strict-Transport-Security", f"max-age={max_age}")])
    assert g.test("strict-transport-security").result == "hsts-implemented-max-age-at-least-six-months"
    assert "hsts-max-age-not-a-number" in codes(g)


def test_quoted_max_age_warning_names_the_unquoted_fix() -> None:
    g = grade([("Strict-Transport-Security", 'max-age="31536000"')])
    assert "max-age=31536000 unquoted" in g.warnings[0].message


def test_plain_max_age_does_not_warn() -> None:
    assert "hsts-max-age-not-a-number" not in codes(grade(GOOD))


def test_xsrf_token_without_samesite_warns_without_changing_the_result() -> None:
    lines = [*GOOD, ("Set-Cookie", "XSRF-TOKEN=abc; Path=/; Secure")]
    g = grade(lines)
    assert g.test("cookies").result == "cookies-secure-with-httponly-sessions"
    assert "cookie-anticsrf-without-samesite" in codes(g)
    assert "XSRF-TOKEN" in g.warnings[-1].message


def test_xsrf_token_with_samesite_does_not_warn() -> None:
    g = grade([*GOOD, ("Set-Cookie", "XSRF-TOKEN=abc; Path=/; Secure; SameSite=Lax")])
    assert "cookie-anticsrf-without-samesite" not in codes(g)
    assert g.test("cookies").result == "cookies-secure-with-httponly-sessions-and-samesite"


# --- redirection --------------------------------------------------------------------------------


def test_untestable_redirection_is_not_applicable_rather_than_missing() -> None:
    g = grade(GOOD, http_redirect_chain=None)
    t = g.test("redirection")
    assert (t.result, t.score_modifier, t.passed) == ("redirection-not-applicable", 0, True)
    assert "port" in t.reason


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ((Hop("http://www.example.com/", 200),), ("redirection-missing", -20)),
        (
            (Hop("http://www.example.com/", 301), Hop("http://www.example.com/x", 200)),
            ("redirection-not-to-https", -20),
        ),
        (
            (Hop("http://www.example.com/", 301), Hop("http://example.com/", 301), Hop("https://example.com/", 200)),
            ("redirection-not-to-https-on-initial-redirection", -10),
        ),
        (
            (Hop("http://example.com/", 301), Hop("https://www.example.com/", 200)),
            ("redirection-off-host-from-http", -5),
        ),
        ((), ("redirection-not-needed-no-http", 0)),
    ],
)
def test_redirection_rules(chain: tuple[Hop, ...], expected: tuple[str, int]) -> None:
    assert result(GOOD, "redirection", http_redirect_chain=chain) == expected


def test_redirect_to_an_invalid_certificate() -> None:
    assert result(GOOD, "redirection", http_redirect_cert_valid=False) == ("redirection-invalid-cert", -20)


# --- strict-transport-security -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=15551999", ("hsts-implemented-max-age-less-than-six-months", -10)),
        ("max-age=15552000", ("hsts-implemented-max-age-at-least-six-months", 0)),
        ("max-age=0", ("hsts-implemented-max-age-less-than-six-months", -10)),
        ("includeSubDomains", ("hsts-header-invalid", -20)),
        ("MAX-AGE=31536000; PRELOAD", ("hsts-implemented-max-age-at-least-six-months", 0)),
    ],
)
def test_hsts_rules(value: str, expected: tuple[str, int]) -> None:
    assert result([("Strict-Transport-Security", value)], "strict-transport-security") == expected


def test_hsts_needs_https() -> None:
    lines = [("Strict-Transport-Security", "max-age=63072000")]
    assert result(lines, "strict-transport-security", https_available=False) == ("hsts-not-implemented-no-https", -20)


def test_a_preloaded_parent_domain_earns_the_preload_bonus() -> None:
    t = grade(GOOD, preloaded_hosts=frozenset({"example.com"})).test("strict-transport-security")
    assert (t.result, t.score_modifier) == ("hsts-preloaded", 5)


# --- cookies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "hsts", "expected"),
    [
        ("SESSIONID=1; Secure", True, ("cookies-session-without-httponly-flag", -30)),
        ("sessionid=1; HttpOnly", False, ("cookies-session-without-secure-flag", -40)),
        ("sessionid=1; HttpOnly", True, ("cookies-session-without-secure-flag-but-protected-by-hsts", -10)),
        ("theme=dark", False, ("cookies-without-secure-flag", -20)),
        ("csrftoken=1; Secure", True, ("cookies-anticsrf-without-samesite-flag", -20)),
        ("login=1; Secure; HttpOnly; SameSite=Strict", True, ("cookies-secure-with-httponly-sessions-and-samesite", 5)),
        ("login=1; Secure; HttpOnly; samesite=lax", True, ("cookies-secure-with-httponly-sessions-and-samesite", 5)),
        ("theme=dark; Secure; SameSite", True, ("cookies-samesite-flag-invalid", -20)),
        ("theme=; Max-Age=0", True, ("cookies-not-found", 0)),
        ("theme=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", True, ("cookies-not-found", 0)),
    ],
)
def test_cookie_rules(cookie: str, hsts: bool, expected: tuple[str, int]) -> None:
    lines = [("Set-Cookie", cookie)]
    if hsts:
        lines.append(("Strict-Transport-Security", "max-age=63072000"))
    assert result(lines, "cookies") == expected


def test_the_worst_cookie_decides() -> None:
    lines = [("Set-Cookie", "a=1; Secure; SameSite=Lax"), ("Set-Cookie", "sessionid=2")]
    assert result(lines, "cookies") == ("cookies-session-without-secure-flag", -40)


def test_a_later_set_cookie_replaces_an_earlier_one() -> None:
    lines = [("Set-Cookie", "sessionid=1"), ("Set-Cookie", "sessionid=2; Secure; HttpOnly; SameSite=Lax")]
    assert result(lines, "cookies") == ("cookies-secure-with-httponly-sessions-and-samesite", 5)


# --- CORS, CORP, referrer, XCTO, SRI --------------------------------------------------------------


def test_cors_reflecting_the_origin_with_credentials_is_universal_access() -> None:
    preflight = (
        ("Access-Control-Allow-Origin", "https://http-observatory.security.mozilla.org"),
        ("Access-Control-Allow-Credentials", "true"),
    )
    assert result(GOOD, "cross-origin-resource-sharing", cors_preflight_headers=preflight) == (
        "cross-origin-resource-sharing-implemented-with-universal-access",
        -50,
    )


def test_cors_is_judged_on_the_preflight_answer() -> None:
    lines = [*GOOD, ("Access-Control-Allow-Origin", "*")]
    assert result(lines, "cross-origin-resource-sharing", cors_preflight_headers=None)[0] == (
        "cross-origin-resource-sharing-not-implemented"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("same-origin", ("corp-implemented-with-same-origin", 0)),
        (" Same-Site ", ("corp-implemented-with-same-site", 0)),
        ("cross-origin", ("corp-implemented-with-cross-origin", 0)),
        ("same", ("corp-header-invalid", -5)),
    ],
)
def test_corp_rules(value: str, expected: tuple[str, int]) -> None:
    assert result([("Cross-Origin-Resource-Policy", value)], "cross-origin-resource-policy") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("strict-origin", ("referrer-policy-private", 5)),
        ("no-referrer-when-downgrade", ("referrer-policy-no-referrer-when-downgrade", 0)),
        ("origin-when-cross-origin", ("referrer-policy-unsafe", -5)),
        ("nonsense", ("referrer-policy-header-invalid", -5)),
        ("nonsense, same-origin", ("referrer-policy-private", 5)),
    ],
)
def test_referrer_rules(value: str, expected: tuple[str, int]) -> None:
    assert result([("Referrer-Policy", value)], "referrer-policy") == expected


def test_meta_referrer_alone_counts() -> None:
    body = '<html><head><meta name="referrer" content="no-referrer"></head></html>'
    assert result([], "referrer-policy", body_html=body) == ("referrer-policy-private", 5)


def test_xcto_is_case_insensitive() -> None:
    assert result([("X-Content-Type-Options", " NoSniff ")], "x-content-type-options") == (
        "x-content-type-options-nosniff",
        0,
    )


def _page(*scripts: str) -> str:
    return "<html><head>" + "".join(scripts) + "</head></html>"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_page(), ("sri-not-implemented-but-no-scripts-loaded", 0)),
        (
            _page("<script>1</script>", '<script src="/app.js"></script>'),
            ("sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0),
        ),
        (
            _page('<script src="https://static.example.com/a.js"></script>'),
            ("sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0),
        ),
        (
            _page('<script src="/a.js" integrity="sha384-x"></script>'),
            ("sri-implemented-and-all-scripts-loaded-securely", 5),
        ),
        (
            _page('<script src="https://cdn.other.net/a.js"></script>'),
            ("sri-not-implemented-but-external-scripts-loaded-securely", -5),
        ),
        (
            _page('<script src="https://cdn.other.net/a.js" integrity="sha384-x" crossorigin="anonymous"></script>'),
            ("sri-implemented-and-external-scripts-loaded-securely", 5),
        ),
        (
            _page('<script src="http://cdn.other.net/a.js"></script>'),
            ("sri-not-implemented-and-external-scripts-not-loaded-securely", -50),
        ),
        (
            _page('<script src="http://cdn.other.net/a.js" integrity="sha384-x"></script>'),
            ("sri-implemented-but-external-scripts-not-loaded-securely", -20),
        ),
        (
            _page('<script src="//cdn.other.net/a.js"></script>'),
            ("sri-not-implemented-and-external-scripts-not-loaded-securely", -50),
        ),
    ],
)
def test_sri_rules(body: str, expected: tuple[str, int]) -> None:
    assert result([], "subresource-integrity", body_html=body) == expected


def test_another_vercel_app_is_a_foreign_site() -> None:
    body = _page('<script src="https://someone-else.vercel.app/a.js"></script>')
    got = result([], "subresource-integrity", url="https://aikinklab.vercel.app/", body_html=body)
    assert got == ("sri-not-implemented-but-external-scripts-loaded-securely", -5)


def test_sri_is_not_judged_on_a_non_html_response() -> None:
    got = result(
        [],
        "subresource-integrity",
        content_type="application/json",
        body_html=_page('<script src="http://x.net/a.js"></script>'),
    )
    assert got == ("sri-not-implemented-response-not-html", 0)
