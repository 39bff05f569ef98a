"""Incidents without GitHub: one markdown file per key, routed alerts, reruns that do not duplicate."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from incident_fakes import SmtpServer, free_port
from pytest_httpserver import HTTPServer

from aikinklab_ops.incident import (
    AlertSettings,
    EmailSettings,
    IncidentNotFound,
    IncidentSettings,
    Severity,
    WebhookSettings,
    open_incident,
    resolve_incident,
    update_incident,
)
from aikinklab_ops.report import Status

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def settings(tmp_path: Path, smtp: SmtpServer | None = None, sms_url: str | None = None) -> IncidentSettings:
    email = EmailSettings()
    if smtp:
        email = EmailSettings(
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            starttls=False,
            sender="ops@aikinklab.com",
            recipients=("oncall@aikinklab.com",),
            timeout_s=5,
        )
    sms = WebhookSettings("sms", webhook_url=sms_url, recipients=("+15550100",), timeout_s=2, needs_recipients=True)
    return IncidentSettings(local_dir=tmp_path / "incidents", alerts=AlertSettings(email=email, sms=sms))


def test_incident_p0_goes_to_email_and_sms_and_a_local_file(
    tmp_path: Path, smtp_server: SmtpServer, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/sms", method="POST").respond_with_data("queued")
    s = settings(tmp_path, smtp_server, httpserver.url_for("/sms"))
    inc = open_incident(
        s,
        key="site-down",
        severity=Severity.P0,
        title="Site down",
        impact="all visitors",
        status="Investigating",
        now=T0,
    )
    assert inc.action == "opened" and inc.ok
    assert {o.channel: o.status for o in inc.outcomes} == {
        "local": Status.PASS,
        "email": Status.PASS,
        "sms": Status.PASS,
        "chat": Status.SKIP,
        "dashboard": Status.SKIP,
    }
    path = tmp_path / "incidents" / "site-down.md"
    text = path.read_text()
    assert text.splitlines()[0] == "<!-- aikinklab-ops incident: site-down -->"
    assert "🚨 INCIDENT ALERT - P0" in text
    assert len(smtp_server.box.messages) == 1
    payload = httpserver.log[0][0].get_json()
    assert payload["severity"] == "P0" and payload["event"] == "incident.alert"
    assert payload["recipients"] == ["+15550100"]


def test_incident_p3_goes_to_the_dashboard_only(tmp_path: Path, smtp_server: SmtpServer) -> None:
    inc = open_incident(
        settings(tmp_path, smtp_server),
        key="typo",
        severity=Severity.P3,
        title="Typo in footer",
        impact="cosmetic",
        now=T0,
    )
    assert inc.outcome("dashboard").status is Status.PASS
    assert inc.outcome("email").status is Status.SKIP
    assert smtp_server.box.messages == []


def test_incident_p2_goes_to_email_only(tmp_path: Path, smtp_server: SmtpServer) -> None:
    inc = open_incident(
        settings(tmp_path, smtp_server),
        key="slow",
        severity=Severity.P2,
        title="Slower",
        impact="pages 20% slower",
        now=T0,
    )
    assert inc.outcome("email").status is Status.PASS
    assert inc.outcome("sms").status is Status.SKIP


def test_incident_a_failed_channel_does_not_stop_the_others(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sms", method="POST").respond_with_data("queued")
    s = settings(tmp_path, sms_url=httpserver.url_for("/sms"))
    s = replace(
        s,
        alerts=replace(
            s.alerts,
            email=EmailSettings(
                smtp_host="127.0.0.1",
                smtp_port=free_port(),
                starttls=False,
                sender="a@b.cd",
                recipients=("x@y.z",),
                timeout_s=2,
            ),
        ),
    )
    inc = open_incident(s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", now=T0)
    assert inc.outcome("email").status is Status.FAIL
    assert inc.outcome("sms").status is Status.PASS
    assert inc.outcome("local").status is Status.PASS
    assert not inc.ok
    assert not inc.to_report().ok
    check = inc.to_check()
    assert check.status is Status.FAIL and check.summary.endswith("failed: email")


def test_incident_rerun_updates_instead_of_duplicating_and_respects_the_cadence(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    s = settings(tmp_path, smtp_server)
    open_incident(s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", now=T0)
    again = open_incident(
        s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", now=T0 + timedelta(minutes=10)
    )
    assert again.action == "unchanged"
    assert "next P1 update due in 20 min" in again.outcome("local").summary
    assert again.outcome("email").status is Status.SKIP
    assert len(smtp_server.box.messages) == 1
    later = open_incident(
        s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", now=T0 + timedelta(minutes=31)
    )
    assert later.action == "updated"
    assert len(smtp_server.box.messages) == 2
    assert list((tmp_path / "incidents").iterdir()) == [tmp_path / "incidents" / "k.md"]


def test_incident_escalation_realerts_at_once(tmp_path: Path, smtp_server: SmtpServer) -> None:
    s = settings(tmp_path, smtp_server)
    open_incident(s, key="k", severity=Severity.P2, title="Slow", impact="slower", now=T0)
    worse = open_incident(s, key="k", severity=Severity.P0, title="Down", impact="down", now=T0 + timedelta(minutes=1))
    assert worse.action == "updated" and worse.severity is Severity.P0
    assert worse.message.text.startswith("🚨 INCIDENT ALERT - P0")
    assert "P2 → P0" in worse.message.text
    assert len(smtp_server.box.messages) == 2
    text = (tmp_path / "incidents" / "k.md").read_text()
    assert '"severity": "P0"' in text


def test_incident_update_and_resolve_keep_a_timeline(tmp_path: Path) -> None:
    s = settings(tmp_path)
    open_incident(s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", now=T0)
    up = update_incident(s, key="k", status="Identified", eta="10:30 UTC", now=T0 + timedelta(minutes=20))
    assert up.message.text.startswith("🔄 INCIDENT UPDATE - P1")
    assert "**Impact:** no sales" in up.message.text  # the impact carries over
    done = resolve_incident(
        s,
        key="k",
        resolution="rolled back",
        root_cause="bad deploy",
        prevention="canary",
        now=T0 + timedelta(hours=2, minutes=5),
    )
    assert done.state == "resolved"
    assert "**Duration:** 2 h 5 min" in done.message.text
    text = (tmp_path / "incidents" / "k.md").read_text()
    assert text.index("opened (P1)") < text.index("update (P1)") < text.index("resolved (P1)")
    assert '"status": "resolved"' in text
    with pytest.raises(IncidentNotFound, match="no open incident with key 'k'"):
        update_incident(s, key="k", status="again")


def test_incident_reopening_a_resolved_key_keeps_the_old_file(tmp_path: Path) -> None:
    s = settings(tmp_path)
    open_incident(s, key="k", severity=Severity.P2, title="first", impact="x", now=T0)
    resolve_incident(s, key="k", resolution="r", root_cause="c", prevention="p", now=T0 + timedelta(hours=1))
    second = open_incident(s, key="k", severity=Severity.P1, title="second", impact="y", now=T0 + timedelta(days=1))
    assert second.action == "opened"
    names = sorted(p.name for p in (tmp_path / "incidents").iterdir())
    assert names == ["k.20261203T100000Z.md", "k.md"]
    assert "second" in (tmp_path / "incidents" / "k.md").read_text()


@pytest.mark.parametrize("key", ["", "../etc/passwd", "a b", "x" * 101, "-leading"])
def test_incident_unusable_keys_are_refused(tmp_path: Path, key: str) -> None:
    from aikinklab_ops.errors import InputError

    with pytest.raises(InputError, match="incident key"):
        open_incident(settings(tmp_path), key=key, severity=Severity.P3, title="t", impact="i")


def test_incident_title_is_one_line_and_not_empty(tmp_path: Path) -> None:
    from aikinklab_ops.errors import InputError

    inc = open_incident(settings(tmp_path), key="k", severity=Severity.P3, title="two\nlines", impact="i", now=T0)
    assert inc.title == "two lines"
    with pytest.raises(InputError, match="title is empty"):
        open_incident(settings(tmp_path), key="k2", severity=Severity.P3, title=" \n ", impact="i")
