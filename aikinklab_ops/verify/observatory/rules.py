"""The Observatory's smaller tests: CORS, CORP, redirection, Referrer-Policy, SRI, XCTO, XFO.

Each returns ``(result, reason)``; pass/fail and the modifier follow from the result name in
``grader``. The reasons are ours: the Observatory's text is written for its web page.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aikinklab_ops.secrets import redact_url
from aikinklab_ops.verify.observatory.hsts import is_preloaded
from aikinklab_ops.verify.observatory.model import Hop
from aikinklab_ops.verify.observatory.page import Body, Headers, is_html

Verdict = tuple[str, str]

REFERRER_PRIVATE = ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin")
REFERRER_UNSAFE = ("origin", "origin-when-cross-origin", "unsafe-url")
REFERRER_VALID = (*REFERRER_PRIVATE, *REFERRER_UNSAFE, "no-referrer-when-downgrade")


def cors(preflight: Headers | None, request_origin: str) -> Verdict:
    acao = preflight.get("access-control-allow-origin") if preflight else None
    if acao is None:
        return "cross-origin-resource-sharing-not-implemented", "no Access-Control-Allow-Origin header"
    value = acao[:256].strip().lower()
    creds = ((preflight.get("access-control-allow-credentials") if preflight else None) or "").strip().lower()
    if value == "*":
        return (
            "cross-origin-resource-sharing-implemented-with-public-access",
            "Access-Control-Allow-Origin: * (public, without credentials)",
        )
    if value == request_origin.strip().lower() and creds == "true":
        return (
            "cross-origin-resource-sharing-implemented-with-universal-access",
            f"the preflight from {request_origin} was answered with that origin and credentials allowed: "
            "any site can read this content as the visitor",
        )
    return "cross-origin-resource-sharing-implemented-with-restricted-access", f"access restricted to {value}"


def corp(headers: Headers) -> Verdict:
    value = headers.get("cross-origin-resource-policy")
    if value is None:
        return "corp-not-implemented", "no Cross-Origin-Resource-Policy header (cross-origin by default)"
    policy = value[:256].strip().lower()
    names = {
        "same-origin": "corp-implemented-with-same-origin",
        "same-site": "corp-implemented-with-same-site",
        "cross-origin": "corp-implemented-with-cross-origin",
    }
    if policy in names:
        return names[policy], f"Cross-Origin-Resource-Policy: {policy}"
    return "corp-header-invalid", f"Cross-Origin-Resource-Policy {value!r} is none of {', '.join(names)}"


def redirection(
    chain: tuple[Hop, ...] | None,
    *,
    http_available: bool,
    cert_valid: bool,
    preloaded: frozenset[str],
) -> Verdict:
    if chain is None:
        return (
            "redirection-not-applicable",
            "the target is not on the default port, so there is no port 80 whose redirect could be tested",
        )
    if not http_available or not chain:
        return "redirection-not-needed-no-http", "nothing answers plain HTTP"
    if not cert_valid:
        return "redirection-invalid-cert", "the redirect ends on an HTTPS certificate that does not verify"
    hosts = [urlsplit(h.url).hostname or "" for h in chain]
    schemes = [urlsplit(h.url).scheme.lower() for h in chain]
    route = " -> ".join(redact_url(h.url) for h in chain)
    if preloaded and all(is_preloaded(h, preloaded) for h in hosts):
        return "redirection-all-redirects-preloaded", "every host on the way is HSTS-preloaded"
    if len(chain) == 1:
        return "redirection-missing", f"{route} answers {chain[0].status} without redirecting to HTTPS"
    if schemes[-1] != "https":
        return "redirection-not-to-https", f"the redirect does not end on HTTPS: {route}"
    if schemes[1] == "http":
        return (
            "redirection-not-to-https-on-initial-redirection",
            f"the first redirect stays on plain HTTP: {route}",
        )
    if schemes[0] == "http" and urlsplit(chain[0].url).netloc.lower() != urlsplit(chain[1].url).netloc.lower():
        return (
            "redirection-off-host-from-http",
            f"HTTP redirects straight to another host, so HSTS is never set on the first: {route}",
        )
    return "redirection-to-https", f"redirects to HTTPS: {route}"


def referrer_policy(headers: Headers, body: Body) -> Verdict:
    header = headers.get("referrer-policy")
    meta = body.meta_referrer
    if header is not None and meta is not None:
        policy = header + ", " + meta  # the header first; the last valid token wins
    elif header is not None:
        policy = header
    elif meta is not None:
        policy = meta
    else:
        return "referrer-policy-not-implemented", "no Referrer-Policy (browsers use strict-origin-when-cross-origin)"
    tokens = [t.strip() for t in policy.lower().split(",") if t.strip() in REFERRER_VALID]
    chosen = tokens[-1] if tokens else None
    if chosen in REFERRER_PRIVATE:
        return "referrer-policy-private", f"Referrer-Policy: {chosen}"
    if chosen == "no-referrer-when-downgrade":
        return "referrer-policy-no-referrer-when-downgrade", "Referrer-Policy: no-referrer-when-downgrade"
    if chosen in REFERRER_UNSAFE:
        return "referrer-policy-unsafe", f"Referrer-Policy: {chosen} sends the full URL or origin to other sites"
    return "referrer-policy-header-invalid", f"Referrer-Policy {policy!r} names no valid policy"


# A few multi-label public suffixes (ICANN and hosting platforms, Vercel's included), enough to
# tell two customers of one platform apart without shipping the whole Public Suffix List.
_MULTI_LABEL_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.nz",
        "co.jp",
        "com.br",
        "co.in",
        "com.cn",
        "com.mx",
        "co.za",
        "vercel.app",
        "now.sh",
        "netlify.app",
        "github.io",
        "pages.dev",
        "workers.dev",
        "web.app",
        "firebaseapp.com",
        "herokuapp.com",
        "appspot.com",
        "cloudfront.net",
        "azurewebsites.net",
    }
)


def registrable_domain(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _MULTI_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


_SRI_BADNESS = (
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
)


def subresource_integrity(body: Body, *, url: str, content_type: str | None) -> Verdict:
    if not is_html(content_type):
        return "sri-not-implemented-response-not-html", f"the response is {content_type or 'untyped'}, not HTML"
    page = urlsplit(url)
    page_site = registrable_domain(page.hostname or "")
    result: str | None = None
    reason = ""

    def worse(name: str, why: str) -> None:
        nonlocal result, reason
        if result is None or _SRI_BADNESS.index(name) > _SRI_BADNESS.index(result):
            result, reason = name, why

    foreign = False
    for script in body.scripts:
        if script.src is None:
            continue
        src = urlsplit(script.src.strip())
        relative_origin = not src.scheme and not src.netloc
        relative_protocol = not src.scheme and bool(src.netloc)
        same_site = registrable_domain(src.hostname or "") == page_site
        secure_origin = relative_origin or (same_site and not relative_protocol)
        secure_scheme = src.scheme == "https" or (relative_origin and page.scheme == "https")
        if not secure_origin:
            foreign = True
            if script.integrity and not secure_scheme:
                worse("sri-implemented-but-external-scripts-not-loaded-securely", f"{script.src} is not over HTTPS")
            elif not script.integrity and secure_scheme:
                worse("sri-not-implemented-but-external-scripts-loaded-securely", f"{script.src} has no integrity=")
            elif not script.integrity:
                worse(
                    "sri-not-implemented-and-external-scripts-not-loaded-securely",
                    f"{script.src} has no integrity= and is not loaded over HTTPS",
                )
        elif script.integrity and secure_scheme and result is None:
            result, reason = "sri-implemented-and-all-scripts-loaded-securely", "scripts carry integrity= over HTTPS"
    if not body.scripts:
        return "sri-not-implemented-but-no-scripts-loaded", "the page loads no scripts"
    if not foreign and result is None:
        return (
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            "every script comes from the page's own site",
        )
    if result is None:
        return "sri-implemented-and-external-scripts-loaded-securely", "every external script has integrity= over HTTPS"
    return result, reason


def x_content_type_options(headers: Headers) -> Verdict:
    value = headers.get("x-content-type-options")
    if value is None:
        return "x-content-type-options-not-implemented", "no X-Content-Type-Options header"
    if value[:256].strip().lower() == "nosniff":
        return "x-content-type-options-nosniff", "X-Content-Type-Options: nosniff"
    if headers.count("x-content-type-options") > 1:
        return (
            "x-content-type-options-header-invalid",
            f"the header is sent {headers.count('x-content-type-options')} times and arrives as {value!r}",
        )
    return "x-content-type-options-header-invalid", f"X-Content-Type-Options {value!r} is not nosniff"


def x_frame_options(headers: Headers, csp_data: dict[str, set[str]] | None) -> Verdict:
    value = headers.get("x-frame-options")
    if value is None:
        verdict: Verdict = ("x-frame-options-not-implemented", "no X-Frame-Options header and no CSP frame-ancestors")
    else:
        xfo = value[:1024].strip().lower()
        if xfo in ("deny", "sameorigin"):
            verdict = ("x-frame-options-sameorigin-or-deny", f"X-Frame-Options: {xfo.upper()}")
        elif xfo.startswith("allow-from"):
            verdict = ("x-frame-options-allow-from-origin", f"X-Frame-Options: {value.strip()}")
        elif headers.count("x-frame-options") > 1:
            verdict = (
                "x-frame-options-header-invalid",
                f"the header is sent {headers.count('x-frame-options')} times and arrives as {value!r}",
            )
        else:
            verdict = ("x-frame-options-header-invalid", f"X-Frame-Options {value!r} is not DENY or SAMEORIGIN")
    if csp_data and "frame-ancestors" in csp_data:
        sources = " ".join(sorted(csp_data["frame-ancestors"]))
        verdict = ("x-frame-options-implemented-via-csp", f"CSP frame-ancestors {sources}")
    return verdict
