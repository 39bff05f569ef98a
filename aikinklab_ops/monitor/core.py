"""The monitor: probe every interval for a window, keep the history, judge the SLA, raise incidents.

Two views of the same probes, on purpose. The report's ``uptime``, ``latency-p95`` and
``error-rate`` are the SLA over the whole history (30 days by default): after an outage they stay
breached, and the exit code keeps saying so, until the outage ages out. The incident follows
what the site does *now*: it is opened (or updated) when this run's window shows the site down
or over its thresholds, and resolved when a later window is clean. Otherwise one bad hour would
either page people for a month or never be resolved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

from aikinklab_ops.errors import OpsError
from aikinklab_ops.github.issues import IssueTracker
from aikinklab_ops.http import make_session
from aikinklab_ops.incident.core import Incident, find_incident, open_incident, resolve_incident
from aikinklab_ops.incident.settings import IncidentSettings
from aikinklab_ops.incident.severity import findings
from aikinklab_ops.monitor import history as hist
from aikinklab_ops.monitor.probe import Probe, probe_round
from aikinklab_ops.monitor.settings import MonitorSettings
from aikinklab_ops.monitor.sla import Figures, figures, percentile
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import CheckResult, Report, Status, run_check

CHECKS = ("availability", "uptime", "latency-p95", "error-rate", "backup-rpo")
# The previous history gives the site's normal p95 (the "50 % slower" baseline) once it has this many answers.
BASELINE_MIN_SAMPLES = 20

BackupCheck = Callable[[], CheckResult]


@dataclass(frozen=True)
class MonitorResult:
    report: Report
    window: Figures
    history: Figures
    incident: Incident | None
    warnings: tuple[str, ...]


def _rounds(settings: MonitorSettings) -> int:
    return math.floor(settings.duration_s / settings.interval_s + 1e-9) + 1


def _availability(window: Figures, probes: list[Probe]) -> CheckResult:
    down = window.rounds - window.up_rounds
    details: dict[str, Any] = {"rounds": window.rounds, "down_rounds": down}
    failing = [p for p in probes if not p.ok]
    if failing:
        details["last_errors"] = [f"{p.name}: {p.error}" for p in failing[-5:]]
    if window.last_up is False:
        last_health = next((p for p in reversed(probes) if p.target == "health"), None)
        reason = last_health.error if last_health and last_health.error else "health is failing"
        details["unreachable"] = bool(last_health and last_health.http_status is None)
        return CheckResult(
            "availability",
            Status.FAIL,
            f"site down in the latest round: {reason} ({down} of {window.rounds} rounds down)",
            details,
        )
    if down:
        return CheckResult(
            "availability", Status.WARN, f"down in {down} of {window.rounds} rounds, up again in the latest", details
        )
    bad_pages = {p.name for p in failing if p.target == "page"}
    if bad_pages:
        details["failing_pages"] = sorted(bad_pages)
        return CheckResult(
            "availability",
            Status.WARN,
            f"up, but page(s) failed during the window: {', '.join(sorted(bad_pages))}",
            details,
        )
    return CheckResult("availability", Status.PASS, f"up in all {window.rounds} round(s)", details)


def _uptime(figs: Figures, target: float, span: str) -> CheckResult:
    details = {**figs.to_dict(), "threshold_percent": target}
    up = figs.uptime_percent
    if up is None:
        return CheckResult("uptime", Status.SKIP, "no probe rounds yet", details)
    summary = f"{up:.3f}% over {figs.rounds} round(s) {span} (SLA {target:g}%)"
    return CheckResult("uptime", Status.PASS if up >= target else Status.FAIL, summary, details)


def _latency(figs: Figures, target: float, span: str, baseline: float | None) -> CheckResult:
    details: dict[str, Any] = {"p95_ms": figs.p95_ms, "threshold_ms": target, "requests": figs.requests}
    if baseline is not None:
        details["baseline_p95_ms"] = round(baseline, 1)
    if figs.p95_ms is None:
        return CheckResult("latency-p95", Status.SKIP, "no answered request to time", details)
    ok = figs.p95_ms <= target
    summary = f"p95 {figs.p95_ms:.0f} ms {span} (SLA {target:g} ms)"
    return CheckResult("latency-p95", Status.PASS if ok else Status.FAIL, summary, details)


def _error_rate(figs: Figures, target: float, span: str) -> CheckResult:
    rate = figs.error_rate_percent
    details = {
        "error_rate_percent": None if rate is None else round(rate, 3),
        "errors": figs.errors,
        "requests": figs.requests,
        "threshold_percent": target,
    }
    if rate is None:
        return CheckResult("error-rate", Status.SKIP, "no requests yet", details)
    summary = f"{rate:.2f}% ({figs.errors} of {figs.requests} requests) {span} (SLA {target:g}%)"
    return CheckResult("error-rate", Status.PASS if rate <= target else Status.FAIL, summary, details)


def _backup(backup_check: BackupCheck | None) -> CheckResult:
    if backup_check is None:
        return CheckResult(
            "backup-rpo", Status.SKIP, "backup RPO not checked here (--no-backup / monitor.check_backup)"
        )
    return run_check("backup-rpo", lambda: _renamed(backup_check()))


def _renamed(result: CheckResult) -> CheckResult:
    return (
        result
        if result.name == "backup-rpo"
        else CheckResult("backup-rpo", result.status, result.summary, result.details, result.duration_s)
    )


def _span(hours: float) -> str:
    return f"in the last {hours / 24:g} d" if hours >= 48 else f"in the last {hours:g} h"


def _handle_incident(
    settings: MonitorSettings,
    view: Report,
    baseline: float | None,
    inc: IncidentSettings,
    github: IssueTracker | None,
    now: datetime,
) -> tuple[Incident | None, CheckResult | None]:
    key = settings.incident_key
    # The messages name the site this monitor watches (staging, a preview), not project.domain.
    inc = replace(inc, site=urlsplit(settings.site).netloc or settings.host)
    try:
        if not view.ok:
            found = findings(view, baseline_p95_ms=baseline)
            worst = found[0]
            impact = "; ".join(f.reason for f in found[:3])
            title = f"{settings.host}: {worst.reason}"
            title = title if len(title) <= 120 else title[:119] + "…"
            incident = open_incident(
                inc,
                key=key,
                severity=worst.severity,
                title=title,
                impact=impact,
                status="Investigating (detected by the monitor)",
                details={c.name: c.summary for c in view.checks if c.status.failing},
                github=github,
                now=now,
            )
            return incident, incident.to_check()
        record = find_incident(inc, key=key, github=github)
        if record is None:
            return None, None
        unchecked = {c.name for c in view.checks if c.status is Status.SKIP}
        if "backup-rpo" in unchecked and "backup" in f"{record.state.title} {record.state.impact}".lower():
            # A run that did not look at backups cannot say the backup problem is over.
            return None, CheckResult(
                "incident", Status.SKIP, f"{key} stays open: it is about backups, which this run did not check"
            )
        incident = resolve_incident(
            inc,
            key=key,
            resolution=f"the monitor saw {settings.host} healthy again: "
            + "; ".join(c.summary for c in view.checks if c.status is not Status.SKIP),
            root_cause="not determined by the monitor; record it with `aikinklab-ops incident update` if known",
            prevention="review this incident's timeline and the monitor history",
            github=github,
            now=now,
        )
        return incident, incident.to_check()
    except OpsError as err:
        return None, CheckResult(
            "incident",
            Status.ERROR,
            f"could not open/resolve incident {key}: {err.message}",
            {"error": type(err).__name__},
        )


def run_monitor(
    settings: MonitorSettings,
    *,
    incident_settings: IncidentSettings | None = None,
    github: IssueTracker | None = None,
    backup_check: BackupCheck | None = None,
    session: requests.Session | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> MonitorResult:
    """Probe for ``settings.duration_s``, then judge the SLA and open/resolve the monitor incident.

    ``clock``/``sleep``/``now`` are injectable so a test runs a three-round window instantly;
    without ``incident_settings`` no incident is touched (the report still fails on a breach).
    """
    progress = progress or NullProgress()
    started = now()
    t_start = clock()
    since = started - timedelta(hours=settings.history_window_h)
    loaded = hist.load(settings.history, since=since)
    warnings = list(loaded.warnings)
    for w in warnings:
        if log:
            log(f"warning: {w}")
    if loaded.pruned or loaded.warnings:
        hist.save(settings.history, loaded.probes)
    site = settings.site
    previous = [p for p in loaded.probes if p.site == site]
    http = session or make_session(timeout=settings.timeout_s, retries=0)
    http.max_redirects = settings.max_redirects
    n = _rounds(settings)
    window: list[Probe] = []
    progress.start(f"monitoring {site}", total=n, unit="rounds")
    try:
        for k in range(n):
            wait = t_start + k * settings.interval_s - clock()
            if wait > 0:
                sleep(wait)
            probes = probe_round(http, settings, now())
            hist.append(settings.history, probes)
            window.extend(probes)
            up = all(p.ok for p in probes if p.target == "health")
            progress.advance(note="up" if up else "DOWN")
    finally:
        progress.finish()
        if session is None:
            http.close()
    th = settings.thresholds
    win = figures(window)
    allf = figures([*previous, *window])
    answered = [p.ms for p in previous if p.ms is not None and p.http_status is not None]
    baseline = percentile(answered, 95) if len(answered) >= BASELINE_MIN_SAMPLES else None
    span = _span(settings.history_window_h)
    availability = _availability(win, window)
    backup = _backup(backup_check)
    checks = [
        availability,
        _uptime(allf, th.uptime_percent, span),
        _latency(allf, th.p95_ms, span, baseline),
        _error_rate(allf, th.error_rate_percent, span),
        backup,
    ]
    # A backup check that could not run (ERROR) fails the report but is not an outage to page on.
    view = Report(
        "monitor-window",
        (
            availability,
            _latency(win, th.p95_ms, "in this window", baseline),
            _error_rate(win, th.error_rate_percent, "in this window"),
            *((backup,) if backup.status is not Status.ERROR else ()),
        ),
    )
    incident: Incident | None = None
    if incident_settings is not None and settings.incidents:
        incident, check = _handle_incident(settings, view, baseline, incident_settings, github, now())
        if check is not None:
            checks.append(check)
    outputs = {
        "uptime-percent": "" if allf.uptime_percent is None else f"{allf.uptime_percent:.3f}",
        "p95-ms": "" if allf.p95_ms is None else f"{allf.p95_ms:.0f}",
        "error-rate-percent": "" if allf.error_rate_percent is None else f"{allf.error_rate_percent:.3f}",
        "incident-key": settings.incident_key,
        "incident-action": incident.action if incident else "none",
        "incident-url": (incident.location or "") if incident else "",
    }
    report = Report(
        "monitor", tuple(checks), target=site, started_at=started, duration_s=clock() - t_start, outputs=outputs
    )
    return MonitorResult(report, win, allf, incident, tuple(warnings))
