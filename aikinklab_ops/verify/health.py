"""The health endpoint: is the app itself up, not just the edge in front of it?

A 200 is not enough: a CDN error page, a maintenance page or a framework's HTML fallback all
answer 200. Only a JSON body whose status field says healthy passes. A just-promoted deployment
may need seconds before it answers well, so a failing answer is retried with backoff until the
deadline; a degraded one is a real answer from a running app and is reported at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.settings import HealthSettings
from aikinklab_ops.verify.urls import join, safe

NAME = "health"
_MAX_WAIT_S = 5.0
_EXCERPT = 200
_NO_PROGRESS = NullProgress()


@dataclass(frozen=True)
class HealthVerdict:
    status: Status
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


def _field(body: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = body
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _is_healthy(value: Any, healthy: set[str]) -> bool | None:
    """True/False for a judgeable value; None when it is neither a word nor a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in healthy
    return None


def _failing_subchecks(body: Mapping[str, Any], healthy: set[str]) -> dict[str, Any]:
    """Entries of ``checks`` (a common health-body convention) that do not say healthy."""
    checks = body.get("checks")
    if not isinstance(checks, Mapping):
        return {}
    failing: dict[str, Any] = {}
    for name, value in checks.items():
        state = value.get("status") if isinstance(value, Mapping) else value
        if _is_healthy(state, healthy) is not True:
            failing[str(name)] = state
    return failing


def judge_health(code: int, headers: Mapping[str, str], body: bytes, settings: HealthSettings) -> HealthVerdict:
    """The verdict on one health answer, from status, headers and body alone."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    details: dict[str, Any] = {"code": code, "content_type": ctype or None}
    healthy = {v.lower() for v in settings.healthy_values}
    degraded = {v.lower() for v in settings.degraded_values}
    try:
        parsed: Any = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep to parse
        parsed = None
        details["body_excerpt"] = body[:_EXCERPT].decode("utf-8", "replace")
    is_json = isinstance(parsed, Mapping)
    if is_json:
        found, value = _field(parsed, settings.status_field)
        details["body_status"] = value if found else None
        failing = _failing_subchecks(parsed, healthy)
        if failing:
            details["failing_checks"] = failing
    if not 200 <= code < 300:
        location = next((v for k, v in headers.items() if k.lower() == "location"), None)
        if location:
            details["location"] = safe(location)
            return HealthVerdict(Status.FAIL, f"HTTP {code} redirect to {safe(location)}", details)
        return HealthVerdict(Status.FAIL, f"HTTP {code}", details)
    if not is_json:
        what = "an empty body" if not body.strip() else f"not a JSON object ({ctype or 'no content type'})"
        return HealthVerdict(Status.FAIL, f"HTTP {code} but the body is {what}", details)
    if not found:
        return HealthVerdict(Status.FAIL, f"HTTP {code} but the body has no {settings.status_field!r} field", details)
    word = value.strip().lower() if isinstance(value, str) else None
    sub = ", ".join(f"{k}={v}" for k, v in details.get("failing_checks", {}).items())
    if word is not None and word in degraded:
        status = Status.FAIL if settings.degraded_is == "fail" else Status.WARN
        summary = f"degraded ({settings.status_field}={value})" + (f": {sub}" if sub else "")
        return HealthVerdict(status, summary, details)
    judged = _is_healthy(value, healthy)
    if judged is True:
        if sub:
            summary = f"{settings.status_field}={value} but sub-checks are not healthy: {sub}"
            return HealthVerdict(Status.WARN, summary, details)
        return HealthVerdict(Status.PASS, f"{settings.status_field}={value}", details)
    reason = f"{settings.status_field}={json.dumps(value)} is not a healthy value"
    return HealthVerdict(Status.FAIL, reason + (f" ({sub})" if sub else ""), details)


def check_health(
    base_url: str,
    session: requests.Session,
    settings: HealthSettings,
    *,
    timeout: float,
    progress: Progress = _NO_PROGRESS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    url = join(base_url, settings.path)
    deadline = clock() + settings.deadline_s
    wait = settings.retry_interval_s
    attempts = 0
    while True:
        attempts += 1
        t0 = time.perf_counter()
        try:
            resp = session.get(url, timeout=timeout, allow_redirects=False)
            verdict = judge_health(resp.status_code, resp.headers, resp.content, settings)
        except requests.RequestException as err:
            reason = describe_transport_error(err, url)
            verdict = HealthVerdict(Status.FAIL, reason, {"code": None, "error": reason})
        latency_ms = round((time.perf_counter() - t0) * 1000, 1)
        remaining = deadline - clock()
        if verdict.status is not Status.FAIL or remaining <= 0:
            break
        progress.message(f"health: attempt {attempts}: {verdict.summary}; retrying for {remaining:.0f}s more")
        sleep(min(wait, remaining))
        wait = min(wait * 2, _MAX_WAIT_S)
    details = {"url": safe(url), "attempts": attempts, **verdict.details, "latency_ms": latency_ms}
    summary = verdict.summary
    if attempts > 1:
        summary += f" (after {attempts} attempts)" if verdict.status is not Status.FAIL else f" ({attempts} attempts)"
    return CheckResult(NAME, verdict.status, summary, details)
