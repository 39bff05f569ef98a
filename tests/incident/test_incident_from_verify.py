"""The classifier on real verification reports (verify's own checks against a site on 127.0.0.1)."""

from __future__ import annotations

from dataclasses import replace

from pytest_httpserver import HTTPServer

from aikinklab_ops.config import load_config
from aikinklab_ops.incident import Severity, classify
from aikinklab_ops.verify.run import run_verification
from aikinklab_ops.verify.settings import VerifySettings

CHECKS = ["health", "pages", "latency", "error-rate"]


def verify_settings() -> VerifySettings:
    s = VerifySettings.from_config(load_config())
    # no waiting for a deploy to become healthy, few samples: a unit-sized verification
    return replace(
        s, health=replace(s.health, deadline_s=0), latency=replace(s.latency, samples=4, concurrency=2), timeout_s=2
    )


def test_incident_verify_report_of_a_down_site_is_p0(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "error"}, status=503)
    httpserver.expect_request("/").respond_with_data("down", status=503)
    report = run_verification(httpserver.url_for("/"), verify_settings(), checks=CHECKS)
    assert not report.ok
    assert classify(report) is Severity.P0


def test_incident_verify_report_of_a_broken_page_is_p1(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/").respond_with_data("error", status=500)
    report = run_verification(httpserver.url_for("/"), verify_settings(), checks=CHECKS)
    assert report.check("health").status.value == "pass"
    assert classify(report) is Severity.P1


def test_incident_verify_report_of_an_unreachable_site_is_p0() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = run_verification(f"http://127.0.0.1:{port}", verify_settings(), checks=["pages", "latency"])
    assert classify(report) is Severity.P0
