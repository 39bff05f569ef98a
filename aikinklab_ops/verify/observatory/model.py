"""What the grader sees, what it says, and the Observatory's score and grade tables.

The tables are the MDN HTTP Observatory's own (``src/grader/charts.js``, algorithm version 5), so a
grade we print means what the Observatory's would. The one result name that is ours,
``redirection-not-applicable``, scores 0: it marks a redirection we could not test, not one that
passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALGORITHM_VERSION = 5
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
# The Origin the Observatory sends on its CORS preflight; a reflected copy of it is "universal access".
OBSERVATORY_ORIGIN = "https://http-observatory.security.mozilla.org"

TEST_NAMES = (
    "content-security-policy",
    "cookies",
    "cross-origin-resource-sharing",
    "redirection",
    "referrer-policy",
    "strict-transport-security",
    "subresource-integrity",
    "x-content-type-options",
    "x-frame-options",
    "cross-origin-resource-policy",
)

SCORE_TABLE: Mapping[str, int] = {
    # content-security-policy
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "csp-not-implemented-but-reporting-enabled": -25,
    # cookies
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    # cross-origin-resource-sharing
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    # redirection
    "redirection-all-redirects-preloaded": 0,
    "redirection-to-https": 0,
    "redirection-not-needed-no-http": 0,
    "redirection-not-applicable": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "redirection-invalid-cert": -20,
    # referrer-policy
    "referrer-policy-private": 5,
    "referrer-policy-no-referrer-when-downgrade": 0,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    # strict-transport-security
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    "hsts-not-implemented-no-https": -20,
    "hsts-invalid-cert": -20,
    # subresource-integrity
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    # x-content-type-options
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    # x-frame-options
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 5,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    # cross-origin-resource-policy
    "corp-implemented-with-same-origin": 0,
    "corp-implemented-with-same-site": 0,
    "corp-implemented-with-cross-origin": 0,
    "corp-not-implemented": 0,
    "corp-header-invalid": -5,
}

# Lowest score of each grade, best first; the Observatory rounds down to a multiple of 5 first,
# which these thresholds already do.
GRADE_TABLE: tuple[tuple[int, str], ...] = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
)
GRADES: tuple[str, ...] = tuple(g for _, g in GRADE_TABLE)


def grade_for_score(score: int) -> str:
    for floor, grade in GRADE_TABLE:
        if score >= floor:
            return grade
    return "F"


def grade_at_least(grade: str, minimum: str) -> bool:
    """Whether ``grade`` is as good as ``minimum`` (A+ best)."""
    return GRADES.index(grade) <= GRADES.index(minimum)


@dataclass(frozen=True)
class Hop:
    """One response of a redirect chain: the URL requested and the status it answered."""

    url: str
    status: int


@dataclass(frozen=True)
class ScanContext:
    """Everything besides the page's headers that the Observatory looks at.

    The fields follow a case's ``context`` in ``observatory-cases.json`` one for one, so a scan we
    make and a scan the Observatory made are graded by the same code. ``http_redirect_chain`` is
    ``None`` when the http -> https redirection cannot be tested (a target on a non-default port);
    the Observatory has no such state, and would wrongly report ``redirection-missing`` there.
    """

    url: str
    https_available: bool = True
    https_cert_valid: bool = True
    http_available: bool = True
    http_redirect_chain: tuple[Hop, ...] | None = None
    # Whether the last hop of the http chain verified, when it ended on https; None: derive it
    # from https_cert_valid (the chain ends on the same https host the scan graded).
    http_redirect_cert_valid: bool | None = None
    status: int = 200
    content_type: str | None = "text/html"
    body_html: str = ""
    # Headers of the answer to the CORS preflight; None when no preflight answer was had.
    cors_preflight_headers: tuple[tuple[str, str], ...] | None = None
    cors_request_origin: str = OBSERVATORY_ORIGIN
    # The Set-Cookie lines the scan's cookie jar kept; None: the page's own Set-Cookie lines.
    cookies: tuple[str, ...] | None = None
    # Hosts on the HSTS preload list (the cases' list is empty).
    preloaded_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_case(cls, case: Mapping[str, Any]) -> ScanContext:
        """The context of one ``observatory-cases.json`` case, as the Observatory saw it."""
        ctx = case["context"]
        headers = case_headers(case)
        chain = ctx.get("http_redirect_chain")
        keys = set(ctx.get("cookie_jar_keys") or ())
        jar = tuple(v for k, v in headers if k.lower() == "set-cookie" and v.split("=", 1)[0].strip() in keys)
        return cls(
            url=ctx["scan_url"],
            https_available=bool(ctx.get("https_available", True)),
            https_cert_valid=bool(ctx.get("https_cert_valid", True)),
            http_available=bool(ctx.get("http_available", True)),
            http_redirect_chain=None if chain is None else tuple(Hop(h["url"], int(h["status"])) for h in chain),
            status=int(ctx.get("response_status", 200)),
            content_type=ctx.get("content_type"),
            body_html=ctx.get("body_html") or "",
            # "same header set on ... the CORS preflight (OPTIONS) response"
            cors_preflight_headers=tuple(headers),
            cors_request_origin=ctx.get("cors_request_origin", OBSERVATORY_ORIGIN),
            cookies=jar,
        )


def case_headers(case: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A case's ``headers`` (name -> list of lines) as the lines a server sent, in order."""
    out: list[tuple[str, str]] = []
    for name, values in case["headers"].items():
        for value in [values] if isinstance(values, str) else values:
            out.append((name, value))
    return out


@dataclass(frozen=True)
class TestResult:
    """One Observatory test: its result name and modifier, and a reason a person can act on."""

    __test__ = False  # not a pytest test class, despite the name

    test: str
    result: str
    score_modifier: int
    passed: bool
    reason: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "result": self.result,
            "score_modifier": self.score_modifier,
            "pass": self.passed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Finding:
    """A weakness the Observatory does not score; reported beside the grade, never in it."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Grading:
    score: int
    grade: str
    tests: tuple[TestResult, ...]
    warnings: tuple[Finding, ...] = ()

    @property
    def tests_passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def tests_failed(self) -> int:
        return sum(not t.passed for t in self.tests)

    def test(self, name: str) -> TestResult:
        for t in self.tests:
            if t.test == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "algorithm_version": ALGORITHM_VERSION,
            "tests_passed": self.tests_passed,
            "tests_failed": self.tests_failed,
            "tests": [t.to_dict() for t in self.tests],
            "warnings": [w.to_dict() for w in self.warnings],
        }
