from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aikinklab_ops.errors import InputError
from aikinklab_ops.incident import Severity, classify, findings
from aikinklab_ops.incident.severity import human_duration
from aikinklab_ops.report import CheckResult, Report, Status

PASS = CheckResult("dns", Status.PASS, "ok")


def report(*checks: CheckResult, kind: str = "verify") -> Report:
    return Report(kind, (PASS, *checks))


def c(name: str, status: Status, summary: str = "broken", **details: Any) -> CheckResult:
    return CheckResult(name, status, summary, details)


# One row per line of the table in docs/incidents.md.
TABLE = [
    ("health failing", c("health", Status.FAIL, "HTTP 503"), None, Severity.P0),
    ("health could not run", c("health", Status.ERROR, "connection to https://x refused"), None, Severity.P0),
    ("monitor: site down now", c("availability", Status.FAIL, "site down in the latest round"), None, Severity.P0),
    ("pages unreachable (wording)", c("pages", Status.FAIL, "cannot connect to https://x: boom"), None, Severity.P0),
    ("pages unreachable (detail)", c("pages", Status.ERROR, "all pages failed", unreachable=True), None, Severity.P0),
    ("dns does not resolve", c("dns", Status.FAIL, "cannot resolve the host of www"), None, Severity.P0),
    ("tls expired (detail)", c("tls", Status.FAIL, "certificate problem", expired=True), None, Severity.P0),
    ("tls expired (wording)", c("tls", Status.FAIL, "certificate expired 2 days ago"), None, Severity.P0),
    ("tls handshake fails", c("tls", Status.ERROR, "TLS handshake with https://x failed"), None, Severity.P0),
    ("tls below policy", c("tls", Status.FAIL, "certificate expires in 9 days (minimum 14)"), None, Severity.P2),
    ("tls untrusted", c("tls", Status.FAIL, "not trusted: self-signed"), None, Severity.P0),
    ("tls wrong host", c("tls", Status.FAIL, "www is not among the certificate's names: x"), None, Severity.P0),
    ("tls small key", c("tls", Status.FAIL, "RSA key of 1024 bits, under tls.min_rsa_bits 2048"), None, Severity.P2),
    ("critical page failing", c("pages", Status.FAIL, "/checkout: HTTP 500"), None, Severity.P1),
    (
        "verify pages: one of two down",
        c(
            "pages",
            Status.FAIL,
            "1 of 2 pages failing",
            pages=[{"name": "home", "status": 200}, {"name": "pricing", "status": None}],
        ),
        None,
        Severity.P1,
    ),
    (
        "verify pages: none answered",
        c(
            "pages",
            Status.FAIL,
            "2 of 2 pages failing",
            pages=[{"name": "home", "status": None}, {"name": "pricing", "status": None}],
        ),
        None,
        Severity.P0,
    ),
    (
        "verify latency: none answered",
        c("latency", Status.FAIL, "none of 20 requests was answered", samples=20, answered=0),
        None,
        Severity.P0,
    ),
    (
        "verify latency budget key",
        c("latency", Status.FAIL, "slow", p95_ms=3500, p95_budget_ms=2000),
        None,
        Severity.P1,
    ),
    ("verify error_percent key", c("error-rate", Status.FAIL, "errors", error_percent=12.0), None, Severity.P1),
    ("p95 > 50% over target", c("latency", Status.FAIL, "slow", p95_ms=3200, threshold_ms=2000), None, Severity.P1),
    ("p95 < 50% over target", c("latency", Status.FAIL, "slow", p95_ms=2400, threshold_ms=2000), None, Severity.P2),
    ("p95 exactly 50% over", c("latency-p95", Status.FAIL, "slow", p95_ms=3000, threshold_ms=2000), None, Severity.P2),
    (
        "p95 vs baseline > 50%",
        c("latency-p95", Status.FAIL, "slow", p95_ms=2100, threshold_ms=2000),
        1000.0,
        Severity.P1,
    ),
    ("p95 without numbers", c("latency", Status.FAIL, "too slow"), None, Severity.P2),
    ("error rate >= 5%", c("error-rate", Status.FAIL, "errors", error_rate_percent=7.5), None, Severity.P1),
    ("error rate over target", c("error-rate", Status.FAIL, "errors", error_rate_percent=0.4), None, Severity.P2),
    ("dns misconfigured", c("dns", Status.FAIL, "A record is 1.2.3.4, expected 76.76.21.21"), None, Severity.P1),
    ("backup older than RPO", c("backup-rpo", Status.FAIL, "newest backup is 30 h old"), None, Severity.P1),
    ("security headers grade drop", c("security-headers", Status.FAIL, "grade C, minimum B"), None, Severity.P3),
    ("uptime below SLA", c("uptime", Status.FAIL, "99.5% (SLA 99.9%)"), None, Severity.P2),
    ("web vitals over budget", c("web-vitals", Status.FAIL, "LCP 3100 ms"), None, Severity.P2),
    ("unknown failing check", c("something-new", Status.FAIL), None, Severity.P2),
    ("a warning only", c("security-headers", Status.WARN, "x-powered-by present"), None, Severity.P3),
    ("health warning (degraded)", c("health", Status.WARN, "degraded"), None, Severity.P3),
]


@pytest.mark.parametrize(("row", "check", "baseline", "expected"), TABLE, ids=[r[0] for r in TABLE])
def test_incident_classifier_table(row: str, check: CheckResult, baseline: float | None, expected: Severity) -> None:
    assert classify(report(check), baseline_p95_ms=baseline) is expected


def test_incident_worst_check_wins_and_findings_are_worst_first() -> None:
    rep = report(
        c("security-headers", Status.WARN, "meh"),
        c("pages", Status.FAIL, "/pricing: HTTP 500"),
        c("health", Status.FAIL, "HTTP 503"),
    )
    assert classify(rep) is Severity.P0
    assert [f.check for f in findings(rep)] == ["health", "pages", "security-headers"]


def test_incident_clean_report_has_no_severity() -> None:
    with pytest.raises(InputError, match="no incident to classify"):
        classify(report(c("tls", Status.SKIP, "not https")))


def test_incident_monitor_incident_note_is_not_a_symptom() -> None:
    rep = report(c("incident", Status.FAIL, "email failed"), kind="monitor")
    with pytest.raises(InputError):
        classify(rep)


@pytest.mark.parametrize(
    ("sev", "priority", "respond", "cadence"),
    [
        (Severity.P0, "high", timedelta(minutes=15), timedelta(minutes=15)),
        (Severity.P1, "high", timedelta(hours=1), timedelta(minutes=30)),
        (Severity.P2, "medium", timedelta(hours=4), timedelta(hours=2)),
        (Severity.P3, "low", timedelta(hours=24), timedelta(hours=24)),
    ],
)
def test_incident_runbook_severity_model(sev: Severity, priority: str, respond: timedelta, cadence: timedelta) -> None:
    assert sev.priority == priority
    assert sev.response_time == respond
    assert sev.update_every == cadence


def test_incident_severity_order_and_parse() -> None:
    assert Severity.P0.worse_than(Severity.P1)
    assert not Severity.P3.worse_than(Severity.P2)
    assert Severity.parse(" p2 ") is Severity.P2
    with pytest.raises(InputError, match="P0, P1, P2, P3"):
        Severity.parse("SEV1")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=42), "42 s"),
        (timedelta(minutes=15), "15 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=1, minutes=5), "1 h 5 min"),
        (timedelta(days=3, hours=4, minutes=9), "3 d 4 h"),
    ],
)
def test_incident_human_duration(delta: timedelta, text: str) -> None:
    assert human_duration(delta) == text
