"""Headers + context -> the Observatory's score, grade and per-test results, plus our warnings.

The score starts at 100 and adds every test's modifier; bonuses (positive modifiers) count only
when the score without them is already an A (>= 90), and the score never goes below 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from aikinklab_ops.verify.observatory import extras, rules
from aikinklab_ops.verify.observatory.cookies import analyze_cookies, cookie_jar
from aikinklab_ops.verify.observatory.csp import analyze_csp
from aikinklab_ops.verify.observatory.hsts import analyze_hsts
from aikinklab_ops.verify.observatory.model import (
    MINIMUM_SCORE_FOR_EXTRA_CREDIT,
    SCORE_TABLE,
    Grading,
    ScanContext,
    TestResult,
    grade_for_score,
)
from aikinklab_ops.verify.observatory.page import join_headers, join_optional_headers, parse_body

# The results each test counts as a pass (the Observatory's own lists).
PASSING = frozenset(
    {
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
        "cookies-not-found",
        "cookies-secure-with-httponly-sessions",
        "cookies-secure-with-httponly-sessions-and-samesite",
        "cross-origin-resource-sharing-not-implemented",
        "cross-origin-resource-sharing-implemented-with-public-access",
        "cross-origin-resource-sharing-implemented-with-restricted-access",
        "redirection-all-redirects-preloaded",
        "redirection-to-https",
        "redirection-not-needed-no-http",
        "redirection-not-applicable",
        "referrer-policy-private",
        "referrer-policy-no-referrer-when-downgrade",
        "referrer-policy-not-implemented",
        "hsts-implemented-max-age-at-least-six-months",
        "hsts-preloaded",
        "sri-implemented-and-all-scripts-loaded-securely",
        "sri-implemented-and-external-scripts-loaded-securely",
        "sri-not-implemented-response-not-html",
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
        "sri-not-implemented-but-no-scripts-loaded",
        "x-content-type-options-nosniff",
        "x-frame-options-implemented-via-csp",
        "x-frame-options-sameorigin-or-deny",
        "x-frame-options-allow-from-origin",
        "corp-implemented-with-same-origin",
        "corp-implemented-with-same-site",
        "corp-implemented-with-cross-origin",
        "corp-not-implemented",
    }
)


def _result(test: str, result: str, reason: str) -> TestResult:
    return TestResult(test, result, SCORE_TABLE[result], result in PASSING, reason)


def score_of(tests: Sequence[TestResult]) -> int:
    with_bonus = 100 + sum(t.score_modifier for t in tests)
    without_bonus = 100 + sum(t.score_modifier for t in tests if t.score_modifier < 0)
    return max(0, with_bonus if without_bonus >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else without_bonus)


def grade_headers(headers: Sequence[tuple[str, str]], context: ScanContext) -> Grading:
    """Grade one response's header lines (repeats as separate lines) as the Observatory would."""
    h = join_headers(headers)
    body = parse_body(context.body_html)
    host = urlsplit(context.url).hostname or ""

    csp = analyze_csp(h, body, context.url)
    hsts = analyze_hsts(
        h,
        https_available=context.https_available,
        cert_valid=context.https_cert_valid,
        host=host,
        preloaded=context.preloaded_hosts,
    )
    jar = cookie_jar(context.cookies if context.cookies is not None else h.set_cookie)
    cookies = analyze_cookies(jar, hsts_passed=hsts.passed)

    chain = context.http_redirect_chain
    redirect_cert_valid = context.http_redirect_cert_valid
    if redirect_cert_valid is None:
        ends_on_https = chain is not None and bool(chain) and urlsplit(chain[-1].url).scheme.lower() == "https"
        redirect_cert_valid = context.https_cert_valid if ends_on_https else True

    tests = (
        _result("content-security-policy", csp.result, csp.reason),
        _result("cookies", cookies.result, cookies.reason),
        _result(
            "cross-origin-resource-sharing",
            *rules.cors(join_optional_headers(context.cors_preflight_headers), context.cors_request_origin),
        ),
        _result(
            "redirection",
            *rules.redirection(
                chain,
                http_available=context.http_available,
                cert_valid=redirect_cert_valid,
                preloaded=context.preloaded_hosts,
            ),
        ),
        _result("referrer-policy", *rules.referrer_policy(h, body)),
        _result("strict-transport-security", hsts.result, hsts.reason),
        _result(
            "subresource-integrity",
            *rules.subresource_integrity(body, url=context.url, content_type=context.content_type),
        ),
        _result("x-content-type-options", *rules.x_content_type_options(h)),
        _result("x-frame-options", *rules.x_frame_options(h, csp.data)),
        _result("cross-origin-resource-policy", *rules.corp(h)),
    )
    score = score_of(tests)
    warnings = (
        *extras.csp_findings(h, body),
        *extras.xfo_findings(h),
        *extras.repeated_header_findings(h),
        *(extras.hsts_findings(hsts) if context.https_available and context.https_cert_valid else ()),
        *extras.cookie_findings(jar),
    )
    return Grading(score=score, grade=grade_for_score(score), tests=tests, warnings=tuple(warnings))
