"""The critical pages and user journeys: does each answer what a visitor should see, in time?

Redirects are followed by hand so the chain itself is evidence: a loop or a chain longer than the
cap fails with every hop listed, which is usually the whole diagnosis of a bad ``redirects`` rule
or a domain misconfiguration.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.observatory import Hop
from aikinklab_ops.verify.settings import PageSpec
from aikinklab_ops.verify.threads import parallel_map
from aikinklab_ops.verify.urls import join, safe

NAME = "pages"


@dataclass(frozen=True)
class Fetched:
    """What one page answered, after the redirects that were followed."""

    hops: tuple[Hop, ...]
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None  # a transport failure or a broken redirect chain

    @property
    def status(self) -> int | None:
        return self.hops[-1].status if self.hops else None

    def chain(self) -> list[str]:
        return [f"{h.status} {safe(h.url)}" for h in self.hops]


def fetch(session: requests.Session, url: str, *, follow: bool, max_redirects: int, timeout: float) -> Fetched:
    hops: list[Hop] = []
    seen = {url}
    t0 = time.perf_counter()
    current = url

    def done(body: bytes = b"", error: str | None = None) -> Fetched:
        return Fetched(tuple(hops), body, round((time.perf_counter() - t0) * 1000, 1), error)

    while True:
        try:
            resp = session.get(current, timeout=timeout, allow_redirects=False)
        except requests.RequestException as err:
            return done(error=describe_transport_error(err, current))
        hops.append(Hop(current, resp.status_code))
        location = resp.headers.get("Location")
        if not (follow and resp.is_redirect and location):
            return done(resp.content)
        try:
            nxt = urljoin(current, location)
        except ValueError:
            return done(error=f"the redirect Location {safe(location)[:200]!r} is not a valid URL")
        if nxt in seen:
            return done(error=f"redirect loop back to {safe(nxt)}")
        if len(hops) > max_redirects:
            return done(error=f"more than {max_redirects} redirects (verify.max_redirects)")
        seen.add(nxt)
        current = nxt


def judge_page(spec: PageSpec, got: Fetched) -> str | None:
    """Why the page fails, or None when it is what a visitor should get."""
    if got.error:
        return got.error
    if got.status != spec.expect_status:
        return f"HTTP {got.status}, expected {spec.expect_status}"
    if spec.contains is not None and spec.contains not in got.body.decode("utf-8", "replace"):
        return f"the body does not contain {spec.contains!r}"
    if spec.max_ms is not None and got.elapsed_ms > spec.max_ms:
        return f"took {got.elapsed_ms:.0f} ms, over max_ms {spec.max_ms:g}"
    return None


def _entry(spec: PageSpec, url: str, got: Fetched, reason: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": spec.name,
        "url": safe(url),
        "result": "fail" if reason else "pass",
        "status": got.status,
        "expected": spec.expect_status,
        "ms": got.elapsed_ms,
    }
    if len(got.hops) > 1 or (got.error and got.hops):
        entry["chain"] = got.chain()
    if reason:
        entry["reason"] = reason
    return entry


def check_pages(
    base_url: str,
    session: requests.Session,
    pages: Sequence[PageSpec],
    *,
    max_redirects: int,
    timeout: float,
    concurrency: int = 8,
) -> CheckResult:
    if not pages:
        return CheckResult(NAME, Status.SKIP, "no pages configured (verify.pages)")

    def one(spec: PageSpec) -> dict[str, Any]:
        url = join(base_url, spec.path)
        got = fetch(session, url, follow=spec.follows_redirects, max_redirects=max_redirects, timeout=timeout)
        return _entry(spec, url, got, judge_page(spec, got))

    entries = parallel_map(one, pages, workers=concurrency, name="pages")
    failing = [e for e in entries if e["result"] == "fail"]
    if failing:
        details: dict[str, Any] = {"failing": [e["name"] for e in failing], "pages": entries}
        listed = "; ".join(f"{e['name']} ({e['reason']})" for e in failing)
        return CheckResult(NAME, Status.FAIL, f"{len(failing)} of {len(entries)} pages failing: {listed}", details)
    details = {"pages": entries}
    slowest = max(entries, key=lambda e: e["ms"])
    summary = f"{len(entries)} page(s) OK (slowest {slowest['name']}: {slowest['ms']:.0f} ms)"
    return CheckResult(NAME, Status.PASS, summary, details)
