"""The ``security-headers`` check: fetch the page as the Observatory would, grade it, judge the grade.

The grading itself is pure (``observatory``); this module only gathers what it needs: every header
line as sent (requests merges repeats, and a repeat is exactly what changes a grade), the redirect
chain, the http:// -> https:// redirection, the CORS preflight and the cookies set on the way.

The http:// probe goes out over plain HTTP, so it is sent from a fresh session that carries
nothing but the User-Agent: a token the caller's session carries (a deployment-protection bypass,
say) must never travel in clear text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from aikinklab_ops.errors import ConfigError
from aikinklab_ops.http import describe_transport_error, make_session
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.secrets import redact_url
from aikinklab_ops.verify.observatory import (
    GRADES,
    OBSERVATORY_ORIGIN,
    Finding,
    Grading,
    Hop,
    ScanContext,
    grade_at_least,
    grade_headers,
)
from aikinklab_ops.verify.observatory.model import ALGORITHM_VERSION

NAME = "security-headers"
LABEL = "Security headers graded (MDN HTTP Observatory)"
DEFAULT_MIN_GRADE = "B"
DEFAULT_REQUIRE = ("permissions-policy",)
DEFAULT_FORBID = ("x-powered-by",)
BODY_LIMIT = 2 * 1024 * 1024  # enough for any <head>; a huge page must not exhaust memory
PROBE_MAX_REDIRECTS = 10
_DEFAULT_PORTS = {"http": 80, "https": 443}

Lines = list[tuple[str, str]]


@dataclass(frozen=True)
class HeaderSettings:
    min_grade: str = DEFAULT_MIN_GRADE
    require: tuple[str, ...] = DEFAULT_REQUIRE
    forbid: tuple[str, ...] = DEFAULT_FORBID

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> HeaderSettings:
        """``verify.security_headers`` with the runbook's defaults for what it leaves out."""
        min_grade = str(settings.get("min_grade", DEFAULT_MIN_GRADE))
        if min_grade not in GRADES:
            raise ConfigError(
                f"verify.security_headers.min_grade: {min_grade!r} is not a grade",
                hint=f"use one of {', '.join(GRADES)}",
            )
        require = settings.get("require", DEFAULT_REQUIRE)
        forbid = settings.get("forbid", DEFAULT_FORBID)
        return cls(
            min_grade=min_grade,
            require=tuple(str(h).strip().lower() for h in require or ()),
            forbid=tuple(str(h).strip().lower() for h in forbid or ()),
        )


def header_lines(response: requests.Response) -> Lines:
    """Every header line as the server sent it; ``response.headers`` has merged the repeats."""
    raw = getattr(response, "raw", None)
    raw_headers = getattr(raw, "headers", None)
    if raw_headers is not None and hasattr(raw_headers, "items"):
        return [(str(k), str(v)) for k, v in raw_headers.items()]
    return [(str(k), str(v)) for k, v in response.headers.items()]


def _first(lines: Lines, name: str) -> str | None:
    return next((v for k, v in lines if k.lower() == name), None)


def _is_default_port(url: str) -> bool:
    parts = urlsplit(url)
    return parts.port is None or parts.port == _DEFAULT_PORTS.get(parts.scheme.lower())


def _read_html(response: requests.Response, content_type: str | None) -> str:
    if not content_type or "html" not in content_type.lower():
        return ""
    data = bytearray()
    for chunk in response.iter_content(65536):
        data += chunk
        if len(data) >= BODY_LIMIT:
            break
    try:
        return bytes(data[:BODY_LIMIT]).decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know; the tags we read are ASCII anyway
        return bytes(data[:BODY_LIMIT]).decode("utf-8", errors="replace")


@dataclass
class HttpProbe:
    """The http:// -> https:// redirection as far as it could be followed."""

    chain: tuple[Hop, ...] | None
    available: bool = True
    cert_valid: bool | None = None
    cookies: tuple[tuple[str, Lines], ...] = ()
    note: str | None = None


def http_url_for(url: str) -> str:
    """The plain-HTTP twin of ``url`` on port 80, where a visitor typing the bare host lands.

    The query is dropped: it may carry a token, and this request travels in clear text.
    """
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 literal
        netloc = f"[{netloc}]"
    return urlunsplit(("http", netloc, parts.path or "/", "", ""))


def probe_http_redirection(start: str, *, verify: bool | str, timeout: float) -> HttpProbe:
    """Follow ``start``'s redirects one by one, so a chain that breaks off still shows how far it got."""
    hops: list[Hop] = []
    cookies: list[tuple[str, Lines]] = []
    with make_session(retries=1, backoff_factor=0.2, verify=verify, timeout=timeout) as probe:
        current = start
        for _ in range(PROBE_MAX_REDIRECTS + 1):
            try:
                r = probe.get(current, timeout=timeout, allow_redirects=False)
            except requests.exceptions.SSLError as err:
                hops.append(Hop(current, 0))
                return HttpProbe(tuple(hops), True, False, tuple(cookies), describe_transport_error(err, current))
            except requests.RequestException as err:
                note = describe_transport_error(err, current)
                if not hops:
                    return HttpProbe((), False, None, (), note)
                broke = f"the redirect from {redact_url(start)} broke off: {note}"
                return HttpProbe((), False, None, tuple(cookies), broke)
            lines = header_lines(r)
            cookies.append((r.url, lines))
            hops.append(Hop(r.url, r.status_code))
            location = r.headers.get("location")
            r.close()
            if not (r.is_redirect and location):
                break
            try:
                current = urljoin(r.url, location)
            except ValueError:
                note = f"the redirect Location {redact_url(location)[:200]!r} is not a valid URL"
                return HttpProbe(
                    (), False, None, tuple(cookies), f"the redirect from {redact_url(start)} broke off: {note}"
                )
    return HttpProbe(tuple(hops), True, None, tuple(cookies))


def _preflight(session: requests.Session, url: str, *, timeout: float) -> tuple[tuple[str, str], ...] | None:
    headers = {"Origin": OBSERVATORY_ORIGIN, "Access-Control-Request-Method": "GET"}
    try:
        r = session.options(url, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    try:
        return tuple(header_lines(r))
    finally:
        r.close()


def _domain_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _jar(responses: Iterable[tuple[str, Lines]], page_host: str) -> tuple[str, ...]:
    """The Set-Cookie lines a browser's jar would offer back to the page's host."""
    kept: list[str] = []
    for url, lines in responses:
        origin_host = (urlsplit(url).hostname or "").lower()
        for name, value in lines:
            if name.lower() != "set-cookie":
                continue
            domain = ""
            for attr in value.split(";")[1:]:
                key, _, val = attr.partition("=")
                if key.strip().lower() == "domain":
                    domain = val.strip().lower().lstrip(".")
            if domain:
                if _domain_matches(origin_host, domain) and _domain_matches(page_host, domain):
                    kept.append(value)
            elif origin_host == page_host:
                kept.append(value)
    return tuple(kept)


def _present(lines: Lines, name: str) -> bool:
    return any(k.lower() == name for k, _ in lines)


def _runbook_findings(lines: Lines, cfg: HeaderSettings) -> tuple[list[str], list[str], list[Finding]]:
    missing = [h for h in cfg.require if not _present(lines, h)]
    forbidden = [h for h in cfg.forbid if _present(lines, h)]
    findings: list[Finding] = []
    if missing:
        findings.append(
            Finding(
                "required-header-missing",
                f"required header(s) missing: {', '.join(missing)} (verify.security_headers.require)",
            )
        )
    for h in forbidden:
        value = (_first(lines, h) or "")[:100]
        findings.append(Finding("forbidden-header-present", f"{h}: {value} leaks implementation details; remove it"))
    return missing, forbidden, findings


def _summary(grading: Grading, cfg: HeaderSettings, ok: bool, warnings: Sequence[Finding]) -> str:
    head = f"grade {grading.grade} ({grading.score}/100)"
    if not ok:
        worst = sorted((t for t in grading.tests if t.score_modifier < 0), key=lambda t: t.score_modifier)[:3]
        lost = ", ".join(f"{t.result} ({t.score_modifier})" for t in worst)
        return f"{head} is below the minimum {cfg.min_grade}: {lost}"
    tail = f"; {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    return f"{head}, minimum {cfg.min_grade}{tail}"


def check_security_headers(
    url: str, session: requests.Session, settings: Mapping[str, Any], *, timeout: float
) -> CheckResult:
    """Grade ``url``'s security headers as the MDN HTTP Observatory does; fail below ``min_grade``.

    A missing required header and a forbidden one present are warnings: the grade is the gate,
    and neither changes what a browser enforces on this page.
    """
    cfg = HeaderSettings.from_mapping(settings)
    try:
        page = session.get(url, timeout=timeout, allow_redirects=True, stream=True)
    except requests.RequestException as err:
        reason = describe_transport_error(err, url)
        return CheckResult(NAME, Status.FAIL, reason, {"url": redact_url(url), "error": reason}, label=LABEL)
    try:
        lines = header_lines(page)
        content_type = _first(lines, "content-type")
        try:
            body = _read_html(page, content_type)
        except requests.RequestException as err:
            reason = describe_transport_error(err, page.url)
            return CheckResult(NAME, Status.FAIL, reason, {"url": redact_url(url), "error": reason}, label=LABEL)
    finally:
        page.close()

    final_url = page.url
    page_chain = tuple(Hop(r.url, r.status_code) for r in (*page.history, page))
    seen: list[tuple[str, Lines]] = [(r.url, header_lines(r)) for r in page.history] + [(final_url, lines)]

    probe: HttpProbe
    if urlsplit(url).scheme.lower() == "http" and _is_default_port(url):
        probe = HttpProbe(page_chain)
    elif _is_default_port(url):
        verify = True if session.verify is None else session.verify
        probe = probe_http_redirection(http_url_for(url), verify=verify, timeout=timeout)
        seen.extend(probe.cookies)
    else:
        probe = HttpProbe(None)

    cors = _preflight(session, final_url, timeout=timeout)
    if cors is not None:
        seen.append((final_url, list(cors)))

    page_host = (urlsplit(final_url).hostname or "").lower()
    context = ScanContext(
        url=final_url,
        https_available=urlsplit(final_url).scheme.lower() == "https",
        https_cert_valid=True,  # the page answered over verified TLS, or not over TLS at all
        http_available=probe.available,
        http_redirect_chain=probe.chain,
        http_redirect_cert_valid=probe.cert_valid,
        status=page.status_code,
        content_type=content_type,
        body_html=body,
        cors_preflight_headers=cors,
        cookies=_jar(seen, page_host),
    )
    grading = grade_headers(lines, context)
    missing, forbidden, runbook = _runbook_findings(lines, cfg)
    if page.status_code >= 400:
        runbook.append(
            Finding(
                "error-response",
                f"the page answered HTTP {page.status_code}: the grade is of that response's headers, "
                "which may not be the ones real pages get",
            )
        )
    warnings = [*grading.warnings, *runbook]
    ok = grade_at_least(grading.grade, cfg.min_grade)
    status = Status.FAIL if not ok else (Status.WARN if warnings else Status.PASS)
    details: dict[str, Any] = {
        "url": redact_url(final_url),
        "status": page.status_code,
        "grade": grading.grade,
        "score": grading.score,
        "min_grade": cfg.min_grade,
        "algorithm_version": ALGORITHM_VERSION,
        "tests_passed": grading.tests_passed,
        "tests_failed": grading.tests_failed,
        "tests": [t.to_dict() for t in grading.tests],
        "warnings": [w.to_dict() for w in warnings],
        "missing_required": missing,
        "forbidden_present": forbidden,
        "redirects": [redact_url(h.url) for h in page_chain],
        "http_redirection": None if probe.chain is None else [f"{h.status} {redact_url(h.url)}" for h in probe.chain],
    }
    if probe.note:
        details["http_probe"] = probe.note
    return CheckResult(NAME, status, _summary(grading, cfg, ok, warnings), details, label=LABEL)
