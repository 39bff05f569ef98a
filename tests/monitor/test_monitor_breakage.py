"""Regressions found by trying to break the monitor as an operator would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from monitor_fakes import FakeTime
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aikinklab_ops.incident import IncidentSettings
from aikinklab_ops.monitor import MonitorSettings, run_monitor
from aikinklab_ops.report import Status
from aikinklab_ops.verify.settings import PageSpec


def _settings(httpserver: HTTPServer, tmp_path: Path, **kw: object) -> MonitorSettings:
    base = MonitorSettings(
        url=httpserver.url_for("/").rstrip("/"),
        interval_s=30,
        duration_s=0,
        history=tmp_path / "history.jsonl",
        timeout_s=2,
        pages=(PageSpec("/", "home"),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_monitor_page_expecting_a_redirect_is_not_followed(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    # verify.pages may test a redirect itself ({path: /home, expect_status: 308}); verify does not
    # follow it, so the monitor must not either, or it counts an error on every round.
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/home").respond_with_data("", status=308, headers={"Location": "/"})
    httpserver.expect_request("/").respond_with_data("AIKinkLab")
    s = _settings(httpserver, tmp_path, pages=(PageSpec("/", "home"), PageSpec("/home", "old home", 308)))
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.report.check("availability").status is Status.PASS, result.report.check("availability")
    assert result.report.check("error-rate").details["errors"] == 0
    probes = [json.loads(line) for line in s.history.read_text().splitlines()]
    assert [p["http_status"] for p in probes if p["name"] == "old home"] == [308]


def test_monitor_judges_a_redirecting_health_endpoint_like_verify(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    # verify's health check does not follow redirects; the monitor must reach the same verdict.
    httpserver.expect_request("/api/health").respond_with_data("", status=307, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("AIKinkLab")
    result = run_monitor(
        _settings(httpserver, tmp_path), clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now
    )
    assert result.report.check("availability").status is Status.FAIL
    assert "307" in result.report.check("availability").summary


def test_monitor_appends_on_a_new_line_when_the_history_lacks_a_final_newline(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("AIKinkLab")
    s = _settings(httpserver, tmp_path)
    earlier = {
        "t": "2026-12-03T08:00:00.000+00:00",
        "site": s.site,
        "target": "health",
        "name": "/api/health",
        "ok": True,
        "ms": 12.0,
        "http_status": 200,
    }
    s.history.write_text(json.dumps(earlier))  # a hand edit or another tool: no trailing newline
    run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    lines = s.history.read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["t"] == earlier["t"]
    fake_time.later(minutes=1)
    second = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert second.warnings == ()
    assert second.report.check("uptime").details["rounds"] == 3


def test_monitor_incident_names_the_monitored_site(httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime) -> None:
    # Watching staging (or any --url) must not page people about www.aikinklab.com.
    httpserver.expect_request("/api/health").respond_with_json({"status": "down"}, status=503)
    httpserver.expect_request("/").respond_with_data("oops", status=503)
    s = _settings(httpserver, tmp_path)
    inc = IncidentSettings(local_dir=tmp_path / "incidents", site="www.aikinklab.com")
    result = run_monitor(s, incident_settings=inc, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.incident is not None and result.incident.action == "opened"
    text = (tmp_path / "incidents" / f"{s.incident_key}.md").read_text()
    host = httpserver.url_for("/").split("//", 1)[1].rstrip("/")
    assert f"**Site:** {host}" in text
    assert "www.aikinklab.com" not in text


def test_monitor_timeout_bounds_the_whole_answer_not_each_read(
    httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    # A server that trickles its body never trips requests' per-read timeout; the probe must still
    # give up after timeout_s, count an error (no latency), and keep the window on schedule.
    def trickle(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'{"status": "ok"'
            for _ in range(40):
                time.sleep(0.1)
                yield b" "
            yield b"}"

        return Response(body(), content_type="application/json", direct_passthrough=True)

    httpserver.expect_request("/api/health").respond_with_handler(trickle)
    s = _settings(httpserver, tmp_path, timeout_s=0.5, pages=())
    t0 = time.perf_counter()
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert time.perf_counter() - t0 < 2.5
    avail = result.report.check("availability")
    assert avail.status is Status.FAIL and "did not answer in time" in avail.summary
    assert result.report.check("latency-p95").status is Status.SKIP


def test_monitor_reads_at_most_a_bounded_body(httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime) -> None:
    # A runaway page (an endless stream, a misrouted download) must not be read into memory whole.
    sent = [0]

    def endless(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b"<h1>AIKinkLab</h1>"
            chunk = b"x" * 65536
            for _ in range(1024):  # 64 MiB
                sent[0] += 1
                yield chunk

        return Response(body(), content_type="text/html", direct_passthrough=True)

    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_handler(endless)
    s = _settings(httpserver, tmp_path, timeout_s=10, pages=(PageSpec("/", "home", contains="AIKinkLab"),))
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result.report.check("availability").status is Status.PASS, result.report.check("availability")
    time.sleep(0.2)
    assert sent[0] < 512, f"the probe read {sent[0]} chunks of 64 KiB"


@pytest.mark.parametrize("ms", ["NaN", "Infinity", "-Infinity", "-5", "true"])
def test_monitor_skips_history_lines_with_an_impossible_latency(
    ms: str, httpserver: HTTPServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    # json.loads reads NaN and Infinity; one such hand-edited line would poison the p95 for 30 days
    # (and put a bare Infinity, which is not JSON, into --format json).
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("AIKinkLab")
    s = _settings(httpserver, tmp_path)
    line = json.dumps(
        {"t": "2026-12-03T08:00:00.000+00:00", "site": s.site, "target": "health", "name": "/api/health", "ok": True}
    )
    s.history.write_text(line[:-1] + f', "ms": {ms}, "http_status": 200}}\n')
    result = run_monitor(s, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert len(result.warnings) == 1 and "history.jsonl:1" in result.warnings[0]
    lat = result.report.check("latency-p95")
    assert lat.status is Status.PASS and lat.details["requests"] == 2
    json.dumps(result.report.to_dict(), allow_nan=False)
