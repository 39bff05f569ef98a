"""Weaknesses the Observatory's rules do not score, reported as warnings beside the grade.

Each one is a way to hold a good Observatory grade while a browser does something else: inline
handlers allowed through ``script-src-attr`` (its issue #338), a ``frame-ancestors *`` that still
earns the clickjacking bonus, an ``ALLOW-FROM`` no current browser honours, an HSTS ``max-age``
that JavaScript cannot read, an anti-CSRF cookie whose name does not contain ``csrf``.
"""

from __future__ import annotations

import re

from aikinklab_ops.verify.observatory.cookies import Cookie
from aikinklab_ops.verify.observatory.csp import DANGEROUSLY_BROAD, NONCES_HASHES, split_policies
from aikinklab_ops.verify.observatory.hsts import HstsAnalysis
from aikinklab_ops.verify.observatory.model import Finding
from aikinklab_ops.verify.observatory.page import Body, Headers

_UNSCORED_INLINE = ("script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem")
# Names frameworks give their anti-CSRF cookie that the Observatory's "csrf" substring misses.
_ANTICSRF_NAMES = re.compile(r"xsrf|antiforgery|requestverificationtoken|anti-forgery", re.I)


def _browser_policy(text: str) -> dict[str, list[str]]:
    """A policy as a browser reads it: the first of a repeated directive wins."""
    policy: dict[str, list[str]] = {}
    for chunk in text.split(";"):
        tokens = chunk.split()
        if tokens and tokens[0].lower() not in policy:
            policy[tokens[0].lower()] = [t.lower() for t in tokens[1:]]
    return policy


def csp_findings(headers: Headers, body: Body) -> list[Finding]:
    header = headers.get("content-security-policy") or ""
    header_policies = [_browser_policy(p) for p in split_policies(header)]
    meta_policies = [_browser_policy(p) for p in body.meta_csp if p.strip()]
    out: list[Finding] = []
    for policy in header_policies + meta_policies:
        for name in _UNSCORED_INLINE:
            sources = policy.get(name)
            if sources is None or "'unsafe-inline'" not in sources:
                continue
            neutralised = any(s.startswith(NONCES_HASHES) for s in sources) or (
                name.startswith("script-") and "'strict-dynamic'" in sources
            )
            if neutralised:
                continue
            what = "inline event handlers and javascript: URLs" if name == "script-src-attr" else "inline code"
            if name == "script-src-elem":
                what = "inline <script> elements"
            elif name.startswith("style-"):
                what = "inline styles"
            out.append(
                Finding(
                    "csp-unsafe-inline-unscored",
                    f"CSP {name} 'unsafe-inline' allows {what}; the Observatory grades only script-src and "
                    "style-src, so its score does not show this",
                )
            )
    for policy in header_policies:
        ancestors = policy.get("frame-ancestors")
        if ancestors is not None and set(ancestors).intersection(DANGEROUSLY_BROAD):
            out.append(
                Finding(
                    "csp-frame-ancestors-wildcard",
                    f"CSP frame-ancestors {' '.join(ancestors)} lets any site frame the page; the Observatory "
                    "still counts it as clickjacking protection",
                )
            )
    if not any("frame-ancestors" in p for p in header_policies) and any("frame-ancestors" in p for p in meta_policies):
        out.append(
            Finding(
                "csp-frame-ancestors-in-meta",
                "frame-ancestors is set only in a <meta> policy, where browsers ignore it; send it as a header",
            )
        )
    return out


def xfo_findings(headers: Headers) -> list[Finding]:
    value = headers.get("x-frame-options")
    out: list[Finding] = []
    if value is None:
        return out
    if value.strip().lower().startswith("allow-from"):
        out.append(
            Finding(
                "xfo-allow-from-ignored",
                f"X-Frame-Options: {value.strip()} is ignored by current browsers; use CSP frame-ancestors",
            )
        )
    return out


def repeated_header_findings(headers: Headers) -> list[Finding]:
    out: list[Finding] = []
    for name, label in (("x-frame-options", "X-Frame-Options"), ("x-content-type-options", "X-Content-Type-Options")):
        count = headers.count(name)
        value = headers.get(name) or ""
        parts = {p.strip().lower() for p in value.split(",")}
        if count > 1 and len(parts) == 1:
            out.append(
                Finding(
                    "header-repeated",
                    f"{label} is sent {count} times; browsers accept identical copies, but the Observatory (and "
                    f"other strict clients) see {value!r} and grade it invalid: send it once",
                )
            )
    return out


def hsts_findings(hsts: HstsAnalysis) -> list[Finding]:
    raw = hsts.raw_max_age
    if raw is None or re.fullmatch(r"\d+", raw.strip()):
        return []
    quoted = re.fullmatch(r'"(\d+)"', raw.strip())
    if quoted:
        message = (
            f"HSTS max-age={raw} is quoted: RFC 6797 allows it, but the Observatory reads it as NaN and graded "
            f"it without checking the duration; send max-age={quoted.group(1)} unquoted"
        )
    else:
        message = (
            f"HSTS max-age={raw} does not parse as a number: browsers ignore this header, so the site has no "
            "HSTS, although the Observatory graded it as at least six months"
        )
    return [Finding("hsts-max-age-not-a-number", message)]


def cookie_findings(jar: list[Cookie]) -> list[Finding]:
    return [
        Finding(
            "cookie-anticsrf-without-samesite",
            f"cookie {c.name} looks like an anti-CSRF token but has no valid SameSite; the Observatory only "
            "recognises names containing 'csrf', so its score does not show this",
        )
        for c in jar
        if not c.anticsrf and _ANTICSRF_NAMES.search(c.name) and not c.samesite_valid
    ]
