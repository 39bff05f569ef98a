from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aikinklab_ops.incident import Severity, render_alert, render_resolved, render_update
from aikinklab_ops.incident.messages import TEMPLATES, template

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("sev", "cadence"),
    [(Severity.P0, "15 min"), (Severity.P1, "30 min"), (Severity.P2, "2 h"), (Severity.P3, "24 h")],
)
def test_incident_alert_has_every_runbook_field(sev: Severity, cadence: str) -> None:
    msg = render_alert(
        severity=sev,
        title="Checkout returns 500",
        impact="nobody can pay",
        status="Investigating",
        opened_at=T0,
        site="www.aikinklab.com",
        eta="10:00 UTC",
    )
    lines = msg.text.splitlines()
    assert lines[0] == f"🚨 INCIDENT ALERT - {sev.value}"
    assert "**Issue:** Checkout returns 500" in lines
    assert "**Impact:** nobody can pay" in lines
    assert "**Status:** Investigating" in lines
    assert "**ETA:** 10:00 UTC" in lines
    assert f"**Updates:** every {cadence}" in lines
    assert msg.subject == f"🚨 INCIDENT ALERT - {sev.value}: Checkout returns 500"
    assert "$" not in msg.text


def test_incident_alert_without_eta_says_so_and_lists_details() -> None:
    msg = render_alert(
        severity=Severity.P1,
        title="t",
        impact="i",
        status="Identified",
        opened_at=T0,
        site="s",
        details={"health": "HTTP 503"},
    )
    assert "**ETA:** unknown" in msg.text
    assert "- **health:** HTTP 503" in msg.text


def test_incident_resolved_computes_duration_from_open_to_resolve() -> None:
    msg = render_resolved(
        severity=Severity.P0,
        title="Site down",
        resolution="rolled back to dpl_123",
        root_cause="a bad env var",
        prevention="validate env in the gate",
        opened_at=T0,
        resolved_at=T0 + timedelta(hours=1, minutes=25),
    )
    lines = msg.text.splitlines()
    assert lines[0] == "✅ INCIDENT RESOLVED"
    assert "**Resolution:** rolled back to dpl_123" in lines
    assert "**Duration:** 1 h 25 min (2026-12-03 09:00 UTC to 2026-12-03 10:25 UTC)" in lines
    assert "**Root Cause:** a bad env var" in lines
    assert "**Prevention:** validate env in the gate" in lines


def test_incident_update_says_how_long_it_has_been_open() -> None:
    msg = render_update(
        severity=Severity.P2,
        title="Slow",
        impact="pages slower",
        status="Fixing",
        opened_at=T0,
        now=T0 + timedelta(minutes=50),
    )
    assert msg.text.startswith("🔄 INCIDENT UPDATE - P2")
    assert "**Open for:** 50 min" in msg.text
    assert "**Next update:** within 2 h" in msg.text


@pytest.mark.parametrize("name", TEMPLATES)
def test_incident_templates_ship_as_package_data(name: str) -> None:
    assert template(name).template.strip()
