"""Latency and error rate from one sampling pass over the pages, against the SLA.

One pass feeds both checks, so the error rate is measured on exactly the requests whose latency
is reported, and the target is not hit twice. A request that got no answer has no latency; it
counts only as an error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.settings import LatencySettings, PageSpec
from aikinklab_ops.verify.threads import parallel_map
from aikinklab_ops.verify.urls import join

LATENCY = "latency"
ERROR_RATE = "error-rate"
_LISTED = 10


@dataclass(frozen=True)
class Sample:
    page: str
    ms: float | None  # None when no answer came back
    status: int | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a value that was really observed, never an interpolation."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def judge_latency(samples: Sequence[Sample], settings: LatencySettings) -> CheckResult:
    answered = [s for s in samples if s.ms is not None]
    details: dict[str, Any] = {
        "samples": len(samples),
        "answered": len(answered),
        "concurrency": settings.concurrency,
        "p95_budget_ms": settings.p95_ms,
    }
    if not answered:
        first = next((s.error for s in samples if s.error), None)
        why = f": {first}" if first else ""
        return CheckResult(LATENCY, Status.FAIL, f"none of {len(samples)} requests was answered{why}", details)
    times = [s.ms for s in answered if s.ms is not None]
    p50, p95, worst = percentile(times, 50), percentile(times, 95), max(times)
    details.update({"p50_ms": p50, "p95_ms": p95, "max_ms": worst})
    slowest = sorted(answered, key=lambda s: s.ms or 0.0, reverse=True)[:3]
    details["slowest"] = [{"page": s.page, "ms": s.ms} for s in slowest]
    figures = f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms over {len(answered)} requests"
    if p95 < settings.p95_ms:
        return CheckResult(LATENCY, Status.PASS, f"{figures} (p95 budget {settings.p95_ms:g} ms)", details)
    summary = f"p95 {p95:.0f} ms is over the {settings.p95_ms:g} ms budget; {figures}"
    return CheckResult(LATENCY, Status.FAIL, summary, details)


def judge_error_rate(samples: Sequence[Sample], settings: LatencySettings) -> CheckResult:
    failed = [s for s in samples if s.failed]
    percent = 100.0 * len(failed) / len(samples) if samples else 100.0
    details: dict[str, Any] = {
        "samples": len(samples),
        "failed": len(failed),
        "error_percent": round(percent, 3),
        "max_percent": settings.max_error_percent,
    }
    if failed:
        details["failures"] = [{"page": s.page, "status": s.status, "error": s.error} for s in failed[:_LISTED]]
    figures = f"{len(failed)} of {len(samples)} requests failed ({percent:.2f}%)"
    if not samples:
        return CheckResult(ERROR_RATE, Status.FAIL, "no requests were made", details)
    # "Under the budget", except that a budget of 0 % means no failure at all.
    if not failed or percent < settings.max_error_percent:
        return CheckResult(ERROR_RATE, Status.PASS, f"{figures}; budget {settings.max_error_percent:g}%", details)
    first = failed[0]
    return CheckResult(
        ERROR_RATE,
        Status.FAIL,
        f"{figures}, over the {settings.max_error_percent:g}% budget; first: {first.page}: {first.error}",
        details,
    )


def _one(session: requests.Session, url: str, spec: PageSpec, *, max_redirects: int, timeout: float) -> Sample:
    t0 = time.perf_counter()
    try:
        resp = session.get(url, timeout=timeout, allow_redirects=spec.follows_redirects)
    except requests.TooManyRedirects:
        return Sample(spec.name, None, None, f"more than {max_redirects} redirects")
    except requests.RequestException as err:
        return Sample(spec.name, None, None, describe_transport_error(err, url))
    ms = round((time.perf_counter() - t0) * 1000, 1)
    if resp.status_code != spec.expect_status:
        return Sample(spec.name, ms, resp.status_code, f"HTTP {resp.status_code}, expected {spec.expect_status}")
    return Sample(spec.name, ms, resp.status_code)


def sample_pages(
    base_url: str,
    session: requests.Session,
    pages: Sequence[PageSpec],
    settings: LatencySettings,
    *,
    max_redirects: int,
    timeout: float,
) -> list[Sample]:
    """``settings.samples`` requests, round-robin over the pages, at most ``concurrency`` at once."""
    if not pages:
        return []
    session.max_redirects = max_redirects
    plan = [pages[i % len(pages)] for i in range(settings.samples)]

    def one(spec: PageSpec) -> Sample:
        return _one(session, join(base_url, spec.path), spec, max_redirects=max_redirects, timeout=timeout)

    return parallel_map(one, plan, workers=settings.concurrency, name="latency")


def check_latency_and_errors(
    base_url: str,
    session: requests.Session,
    pages: Sequence[PageSpec],
    settings: LatencySettings,
    *,
    max_redirects: int,
    timeout: float,
) -> tuple[CheckResult, CheckResult]:
    if not pages:
        skip = "no pages configured (verify.pages) to sample"
        return CheckResult(LATENCY, Status.SKIP, skip), CheckResult(ERROR_RATE, Status.SKIP, skip)
    samples = sample_pages(base_url, session, pages, settings, max_redirects=max_redirects, timeout=timeout)
    return judge_latency(samples, settings), judge_error_rate(samples, settings)
