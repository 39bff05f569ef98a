"""The probe loop against a real HTTP server, with an injected clock so a window takes milliseconds."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from monitor_fakes import T0, FakeTime
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aikinklab_ops.incident import IncidentSettings, Severity
from aikinklab_ops.monitor import CHECKS, MonitorSettings, run_monitor
from aikinklab_ops.report import CheckResult, Status
from aikinklab_ops.verify.settings import PageSpec


def healthy(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("<h1>AIKinkLab</h1>", content_type="text/html")


def settings(httpserver: HTTPServer, tmp_path: Path, **kw: object) -> MonitorSettings:
    base = MonitorSettings(
        url=httpserver.url_for("/").rstrip("/"),
        interval_s=30,
        duration_s=60,  # three rounds: t=0, 30, 60
        history=tmp_path / "history.jsonl",
        timeout_s=2,
        pages=(PageSpec("/", "home", contains="AIKinkLab"),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def incidents(tmp_path: Path) -> IncidentSettings:
    return IncidentSettings(local_dir=tmp_path / "incidents")


def test_monitor_healthy_window_passes_quickly(httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime) -> None:
    healthy(httpserver)
    t0 = time.perf_counter()
    result = run_monitor(
        settings(httpserver, tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    assert time.perf_counter() - t0 < 1.0
    rep = result.report
    assert rep.kind == "monitor" and rep.ok
    assert [c.name for c in rep.checks] == list(CHECKS)
    assert fake_time.sleeps == [30, 30]
    assert len(httpserver.log) == 6
    assert rep.check("uptime").details["uptime_percent"] == 100.0
    assert rep.check("error-rate").details["requests"] == 6
    assert rep.check("backup-rpo").status is Status.SKIP
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(lines) == 6
    first = json.loads(lines[0])
    assert first["target"] == "health" and first["ok"] is True and first["t"].startswith("2026-12-03T09:00:00")
    assert rep.outputs["uptime-percent"] == "100.000"


def test_monitor_down_site_opens_a_p0_incident_then_recovery_resolves_it(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "down"}, status=503)
    httpserver.expect_request("/").respond_with_data("oops", status=503)
    s = settings(httpserver, tmp_path)
    down = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    assert not down.report.ok
    assert down.report.check("availability").status is Status.FAIL
    assert down.incident is not None and down.incident.severity is Severity.P0
    assert down.incident.action == "opened"
    assert down.report.check("incident").summary.startswith(f"opened {s.incident_key} (P0)")
    file = tmp_path / "incidents" / f"{s.incident_key}.md"
    assert "🚨 INCIDENT ALERT - P0" in file.read_text()

    httpserver.clear()
    healthy(httpserver)
    fake_time.later(minutes=10)
    up = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    assert up.report.check("availability").status is Status.PASS
    assert up.incident is not None and up.incident.action == "resolved"
    assert "✅ INCIDENT RESOLVED" in file.read_text()
    # the month's SLA still remembers the outage: uptime 50 % over both runs
    assert up.report.check("uptime").status is Status.FAIL
    assert up.report.check("uptime").details["rounds"] == 6
    assert not up.report.ok


def test_monitor_unreachable_site_is_p0(tmp_path: Path, fake_time: FakeTime) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = MonitorSettings(
        url=f"http://127.0.0.1:{port}", interval_s=1, duration_s=0, history=tmp_path / "h.jsonl", timeout_s=1
    )
    result = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    check = result.report.check("availability")
    assert check.status is Status.FAIL and "refused" in check.summary
    assert check.details["unreachable"] is True
    assert result.incident is not None and result.incident.severity is Severity.P0
    assert result.report.check("latency-p95").status is Status.SKIP


def test_monitor_slow_site_breaches_p95_and_opens_p1(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.06)
        return Response(json.dumps({"status": "ok"}), content_type="application/json")

    httpserver.expect_request("/api/health").respond_with_handler(slow)
    httpserver.expect_request("/").respond_with_data("AIKinkLab")
    s = settings(httpserver, tmp_path, duration_s=0)
    s = replace(s, thresholds=replace(s.thresholds, p95_ms=20))
    result = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    lat = result.report.check("latency-p95")
    assert lat.status is Status.FAIL and lat.details["p95_ms"] >= 60
    assert result.report.check("availability").status is Status.PASS
    assert result.incident is not None and result.incident.severity is Severity.P1


def test_monitor_page_errors_count_in_the_error_rate(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("maintenance", status=200)  # lacks "AIKinkLab"
    result = run_monitor(
        settings(httpserver, tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    err = result.report.check("error-rate")
    assert err.status is Status.FAIL
    assert err.details["errors"] == 3 and err.details["requests"] == 6
    avail = result.report.check("availability")
    assert avail.status is Status.WARN and avail.details["failing_pages"] == ["home"]


def test_monitor_history_accumulates_prunes_and_survives_corrupt_lines(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    healthy(httpserver)
    s = settings(httpserver, tmp_path, duration_s=0, history_window_h=24)
    site = s.url
    old = {
        "t": "2026-11-01T00:00:00.000+00:00",
        "site": site,
        "target": "health",
        "name": "/api/health",
        "ok": False,
        "ms": None,
        "http_status": None,
    }
    recent = {**old, "t": "2026-12-03T08:00:00.000+00:00"}
    other_site = {**recent, "site": "https://elsewhere.example"}
    s.history.write_text("\n".join([json.dumps(old), "{truncated", json.dumps(recent), json.dumps(other_site)]) + "\n")
    logs: list[str] = []
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now, log=logs.append)
    assert result.warnings == (
        "history.jsonl:2: skipped a line that is not a probe record "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
    )
    assert logs and "history.jsonl:2" in logs[0]
    # the recent failed probe of this site counts, the other site's does not, the old one is pruned
    uptime = result.report.check("uptime")
    assert uptime.details["rounds"] == 2 and uptime.details["up_rounds"] == 1
    kept = [json.loads(line) for line in s.history.read_text().splitlines()]
    assert len(kept) == 2 + 2  # recent + other site + this run's two probes
    assert all(k["t"] >= "2026-12-02" for k in kept)


def test_monitor_stale_backup_opens_an_incident(httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime) -> None:
    healthy(httpserver)

    def backup() -> CheckResult:
        return CheckResult("rpo", Status.FAIL, "newest verified backup is 30.0 h old; RPO is 24 h")

    result = run_monitor(
        settings(httpserver, tmp_path, duration_s=0),
        incident_settings=incidents(tmp_path),
        backup_check=backup,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        now=fake_time.now,
    )
    assert result.report.check("backup-rpo").status is Status.FAIL
    assert result.incident is not None and result.incident.severity is Severity.P1


def test_monitor_repeated_outage_respects_the_p0_cadence(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    httpserver.expect_request("/api/health").respond_with_data("Bad Gateway", status=502)
    httpserver.expect_request("/").respond_with_data("Bad Gateway", status=502)
    s = settings(httpserver, tmp_path, duration_s=0)
    first = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    fake_time.later(minutes=5)
    second = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    fake_time.later(minutes=11)
    third = run_monitor(
        s, incident_settings=incidents(tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    assert [r.incident.action for r in (first, second, third) if r.incident] == ["opened", "unchanged", "updated"]


@pytest.mark.parametrize(("duration", "interval", "rounds"), [(0, 30, 1), (60, 30, 3), (300, 30, 11), (59, 30, 2)])
def test_monitor_round_count(
    duration: float, interval: float, rounds: int, httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    healthy(httpserver)
    s = settings(httpserver, tmp_path, duration_s=duration, interval_s=interval, pages=())
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.window.rounds == rounds
    assert result.report.started_at == T0


def test_monitor_history_and_report_never_hold_url_secrets(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    healthy(httpserver)
    secret = "bypass-Secret-Value-123456"
    base = httpserver.url_for("/").rstrip("/")
    s = settings(httpserver, tmp_path, url=f"{base}?x-vercel-protection-bypass={secret}", duration_s=0)
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.report.ok, result.report.check("availability")
    # the query still reached the site (a preview needs it) ...
    assert all(req.args.get("x-vercel-protection-bypass") == secret for req, _ in httpserver.log)
    # ... but neither the history nor the report keeps it
    stored = s.history.read_text() + json.dumps(result.report.to_dict())
    assert secret not in stored
    assert result.report.target == s.site == base


def test_monitor_error_messages_never_repeat_url_secrets(tmp_path: Path, fake_time: FakeTime) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "bypass-Secret-Value-123456"
    s = MonitorSettings(
        url=f"http://127.0.0.1:{port}?x-vercel-protection-bypass={secret}",
        interval_s=1,
        duration_s=0,
        history=tmp_path / "h.jsonl",
        timeout_s=1,
    )
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.report.check("availability").status is Status.FAIL
    stored = s.history.read_text() + json.dumps(result.report.to_dict())
    assert "refused" in stored
    assert secret not in stored
