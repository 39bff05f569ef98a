"""The runbook's severity model and the classifier from check results to a severity.

Severities are ordered (P0 is the worst) so that a report with several problems is classified by
its worst one, and so that an incident that gets worse is escalated rather than duplicated.
The classifier reads only ``Report``/``CheckResult`` data, so it works the same on a live
verification, a monitor run, or a JSON report read back from a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.report import CheckResult, Report, Status


class Severity(str, Enum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 for P0 (worst) to 3 for P3, so ``min`` by rank picks the worst."""
        return int(self.value[1])

    @property
    def priority(self) -> str:
        """The runbook's routing priority: high = P0/P1, medium = P2, low = P3."""
        return _PRIORITY[self]

    @property
    def response_time(self) -> timedelta:
        return _RESPONSE[self]

    @property
    def update_every(self) -> timedelta:
        """How often stakeholders hear about an open incident of this severity."""
        return _CADENCE[self]

    @property
    def meaning(self) -> str:
        return _MEANING[self]

    def worse_than(self, other: Severity) -> bool:
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        value = text.strip().upper()
        try:
            return cls(value)
        except ValueError:
            raise InputError(
                f"severity: unknown severity {text!r}", hint="use one of P0, P1, P2, P3 (P0 = site down)"
            ) from None


_PRIORITY = {Severity.P0: "high", Severity.P1: "high", Severity.P2: "medium", Severity.P3: "low"}
_RESPONSE = {
    Severity.P0: timedelta(minutes=15),
    Severity.P1: timedelta(hours=1),
    Severity.P2: timedelta(hours=4),
    Severity.P3: timedelta(hours=24),
}
_CADENCE = {
    Severity.P0: timedelta(minutes=15),
    Severity.P1: timedelta(minutes=30),
    Severity.P2: timedelta(hours=2),
    Severity.P3: timedelta(hours=24),
}
_MEANING = {
    Severity.P0: "site down, security breach or data loss",
    Severity.P1: "a feature unavailable or the site more than 50% slower",
    Severity.P2: "the site less than 50% slower, or a minor issue",
    Severity.P3: "a cosmetic issue",
}


def human_duration(delta: timedelta) -> str:
    """``15 min``, ``2 h``, ``1 h 5 min``, ``3 d 4 h``: how a person says a duration."""
    total = int(delta.total_seconds())
    if total < 60:
        return f"{total} s"
    minutes, _ = divmod(total, 60)
    # Up to two days reads better in hours ("24 h", the runbook's P3 cadence).
    days, rem = divmod(minutes, 24 * 60) if minutes >= 48 * 60 else (0, minutes)
    hours, mins = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts) or "0 min"


@dataclass(frozen=True)
class Finding:
    """One check's contribution to a classification: what it says and how bad that is."""

    check: str
    severity: Severity
    reason: str


# A latency more than this much over its reference is the runbook's "> 50 % slower" (P1).
SLOWER_P1_RATIO = 1.5
# An error rate this high means a feature is effectively unavailable to many users (P1).
ERROR_RATE_P1_PERCENT = 5.0
_UNREACHABLE = re.compile(
    r"refused|timed out|did not answer|cannot connect|cannot resolve|unreachable|name or service not known",
    re.I,
)
# TLS failures a browser refuses outright (verify/tls.py's wording), as opposed to policy failures
# (expiring within tls.min_days, a small key, an old protocol) that visitors do not notice yet.
_BROWSER_REFUSES = re.compile(
    r"expired|not valid until|not yet valid|handshake|verify failed|not trusted|self.signed|hostname mismatch"
    r"|not among the certificate|browsers reject|no longer accept",
    re.I,
)
_P95_KEYS = ("p95_ms", "p95", "observed_ms", "value_ms")
_TARGET_KEYS = ("threshold_ms", "p95_budget_ms", "target_ms", "p95_target_ms", "budget_ms", "limit_ms")
_RATE_KEYS = ("error_rate_percent", "error_percent", "rate_percent", "percent", "error_rate")


def _number(details: Mapping[str, Any], keys: Iterable[str]) -> float | None:
    for key in keys:
        value = details.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _unreachable(check: CheckResult) -> bool:
    details = check.details
    if details.get("unreachable") is True or details.get("reachable") is False:
        return True
    if details.get("answered") == 0 and details.get("samples"):
        return True  # verify's latency check: not one request got an answer
    pages = details.get("pages")
    if isinstance(pages, list) and pages and all(isinstance(p, dict) for p in pages):
        # verify's pages check: unreachable when no page got any HTTP answer at all
        return all(p.get("status") is None for p in pages)
    return bool(_UNREACHABLE.search(check.summary))


def _latency(check: CheckResult, baseline_p95_ms: float | None) -> Finding:
    observed = _number(check.details, _P95_KEYS)
    reference = baseline_p95_ms if baseline_p95_ms else _number(check.details, _TARGET_KEYS)
    what = "the baseline" if baseline_p95_ms else "the target"
    if observed is None or not reference:
        return Finding(check.name, Severity.P2, f"latency over budget ({check.summary})")
    over = (observed / reference - 1) * 100
    severity = Severity.P1 if observed > reference * SLOWER_P1_RATIO else Severity.P2
    return Finding(check.name, severity, f"p95 {observed:.0f} ms is {over:.0f}% over {what} {reference:.0f} ms")


def _classify_check(check: CheckResult, baseline_p95_ms: float | None) -> Finding | None:
    name, status = check.name, check.status
    if status in (Status.PASS, Status.SKIP) or name == "incident":
        # "incident" is the monitor's note about alerting, not a symptom of the site.
        return None
    if status is Status.WARN:
        return Finding(name, Severity.P3, f"warning: {check.summary}")
    # fail or error from here on
    if name in ("health", "availability"):
        return Finding(name, Severity.P0, f"site down: {check.summary}")
    if name in ("pages", "dns", "latency") and _unreachable(check):
        return Finding(name, Severity.P0, f"site unreachable: {check.summary}")
    if name == "tls":
        if check.details.get("expired") is True or _BROWSER_REFUSES.search(check.summary):
            return Finding(name, Severity.P0, f"TLS broken, browsers refuse the site: {check.summary}")
        return Finding(name, Severity.P2, f"TLS below policy: {check.summary}")
    if name == "pages":
        return Finding(name, Severity.P1, f"critical page failing: {check.summary}")
    if name in ("latency", "latency-p95"):
        return _latency(check, baseline_p95_ms)
    if name == "error-rate":
        rate = _number(check.details, _RATE_KEYS)
        if rate is not None and rate >= ERROR_RATE_P1_PERCENT:
            return Finding(name, Severity.P1, f"error rate {rate:g}% (>= {ERROR_RATE_P1_PERCENT:g}%): {check.summary}")
        return Finding(name, Severity.P2, f"error rate over target: {check.summary}")
    if name == "dns":
        return Finding(name, Severity.P1, f"DNS misconfigured: {check.summary}")
    if name == "backup-rpo":
        return Finding(name, Severity.P1, f"data-loss exposure, backups older than the RPO: {check.summary}")
    if name in ("security-headers",):
        return Finding(name, Severity.P3, f"security headers below grade: {check.summary}")
    if name in ("uptime", "web-vitals"):
        return Finding(name, Severity.P2, f"{name} below target: {check.summary}")
    return Finding(name, Severity.P2, f"{name} failed: {check.summary}")


def findings(report: Report, *, baseline_p95_ms: float | None = None) -> list[Finding]:
    """Every check that is not clean, worst first (stable within one severity)."""
    found = [f for c in report.checks if (f := _classify_check(c, baseline_p95_ms)) is not None]
    return sorted(found, key=lambda f: f.severity.rank)


def classify(report: Report, *, baseline_p95_ms: float | None = None) -> Severity:
    """The severity of the worst problem in ``report`` (see docs/incidents.md for the table).

    ``baseline_p95_ms`` is the site's normal p95: with it "50 % slower" is measured against how
    the site usually performs, without it against the target the check carries in its details.
    A clean report has no severity: that is an ``InputError``, not a P3, because opening an
    incident for a passing run would train people to ignore incidents.
    """
    found = findings(report, baseline_p95_ms=baseline_p95_ms)
    if not found:
        raise InputError(
            f"the {report.kind} report has no failing or warning check: there is no incident to classify",
            hint="open an incident by hand with --key/--severity/--title if something is wrong anyway",
        )
    return found[0].severity
