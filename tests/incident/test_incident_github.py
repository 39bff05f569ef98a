"""Incident issues against a fake of GitHub's REST API (bodies shaped like GitHub's own)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from incident_fakes import API, REPO, TOKEN, FakeGitHub, SmtpServer

from aikinklab_ops.errors import ApiError
from aikinklab_ops.github.issues import IssueTracker
from aikinklab_ops.incident import (
    AlertSettings,
    EmailSettings,
    IncidentSettings,
    Severity,
    open_incident,
    resolve_incident,
    update_incident,
)
from aikinklab_ops.incident.store import marker
from aikinklab_ops.report import Status

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def tracker() -> IssueTracker:
    return IssueTracker(REPO, token=TOKEN, api_url=API, timeout_s=5, read_retries=0)


def settings(tmp_path: Path, smtp: SmtpServer | None = None) -> IncidentSettings:
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
    return IncidentSettings(local_dir=tmp_path / "incidents", alerts=AlertSettings(email=email))


def test_incident_opens_one_labelled_issue_with_the_marker(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    inc = open_incident(
        settings(tmp_path),
        key="deploy-42",
        severity=Severity.P1,
        title="Checkout broken",
        impact="no sales",
        github=tracker,
        now=T0,
    )
    assert inc.action == "opened"
    assert inc.outcome("github").status is Status.PASS
    assert inc.number == 1
    assert inc.location == f"https://github.com/{REPO}/issues/1"
    issue = fake_github.issues[1]
    assert issue["title"] == "[P1] Checkout broken"
    assert issue["labels"] == ["incident", "P1"]
    assert issue["body"].splitlines()[0] == marker("deploy-42")
    assert "🚨 INCIDENT ALERT - P1" in issue["body"]
    # missing labels were created with a colour and a description
    assert fake_github.labels["P1"]["color"] == "d93f0b"
    assert "respond < 1 h" in fake_github.labels["P1"]["description"]
    assert all(h == f"token {TOKEN}" for h in fake_github.auth_headers)
    assert not (tmp_path / "incidents").exists()


def test_incident_rerun_finds_the_open_issue_by_marker(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    # An unrelated incident issue that merely quotes the marker further down must not match.
    fake_github.add_issue(
        "[P2] other", "<!-- aikinklab-ops incident: other -->\n\n" + marker("deploy-42"), ["incident", "P2"]
    )
    s = settings(tmp_path)
    first = open_incident(
        s, key="deploy-42", severity=Severity.P2, title="Slow", impact="slower", github=tracker, now=T0
    )
    again = open_incident(
        s,
        key="deploy-42",
        severity=Severity.P0,
        title="Down",
        impact="down",
        github=tracker,
        now=T0 + timedelta(minutes=5),
    )
    assert again.number == first.number == 2
    assert fake_github.count("POST", "issues") == 1
    assert fake_github.issues[2]["labels"] == ["incident", "P0"]
    assert fake_github.issues[2]["title"] == "[P0] Slow"
    (comment,) = fake_github.comments[2]
    assert comment.startswith("🚨 INCIDENT ALERT - P0")


def test_incident_lost_create_answer_is_not_retried_blindly(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    fake_github.lose_create_answer = 1  # GitHub files the issue, the answer is a 502
    inc = open_incident(
        settings(tmp_path), key="k", severity=Severity.P0, title="Down", impact="down", github=tracker, now=T0
    )
    assert inc.outcome("github").status is Status.PASS
    assert inc.number == 1
    assert len(fake_github.issues) == 1
    assert fake_github.count("POST", "issues") == 1


def test_incident_timed_out_create_is_found_by_its_marker(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    fake_github.time_out_create = 1
    inc = open_incident(
        settings(tmp_path), key="k", severity=Severity.P1, title="Broken", impact="x", github=tracker, now=T0
    )
    assert inc.number == 1 and len(fake_github.issues) == 1
    assert fake_github.count("POST", "issues") == 1


def test_incident_create_failing_twice_keeps_the_incident_locally(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    fake_github.fail_next[("POST", "issues")] = [503, 503]
    inc = open_incident(
        settings(tmp_path), key="k", severity=Severity.P1, title="Broken", impact="x", github=tracker, now=T0
    )
    gh = inc.outcome("github")
    assert gh.status is Status.FAIL and "rerunning is safe" in gh.summary
    assert fake_github.count("POST", "issues") == 2 and fake_github.issues == {}
    assert inc.outcome("local").status is Status.PASS
    assert (tmp_path / "incidents" / "k.md").is_file()


def test_incident_create_is_tried_again_only_when_the_marker_is_absent(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    fake_github.fail_next[("POST", "issues")] = [503]  # refused before anything was filed
    inc = open_incident(
        settings(tmp_path), key="k", severity=Severity.P0, title="Down", impact="down", github=tracker, now=T0
    )
    assert inc.number == 1
    assert len(fake_github.issues) == 1
    assert fake_github.count("POST", "issues") == 2
    # between the two POSTs, a search for the marker
    posts = [i for i, c in enumerate(fake_github.calls) if c == ("POST", "issues")]
    assert ("GET", "issues") in fake_github.calls[posts[0] : posts[1]]


def test_incident_update_comments_and_resolve_closes(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    s = settings(tmp_path)
    open_incident(s, key="k", severity=Severity.P1, title="Checkout broken", impact="no sales", github=tracker, now=T0)
    update_incident(s, key="k", status="Fixing", github=tracker, now=T0 + timedelta(minutes=15))
    done = resolve_incident(
        s,
        key="k",
        resolution="reverted",
        root_cause="a typo",
        prevention="a test",
        github=tracker,
        now=T0 + timedelta(minutes=45),
    )
    assert done.outcome("github").summary == "closed issue #1"
    issue = fake_github.issues[1]
    assert issue["state"] == "closed" and issue["state_reason"] == "completed"
    update, resolved = fake_github.comments[1]
    assert update.startswith("🔄 INCIDENT UPDATE - P1") and "**Status:** Fixing" in update
    assert resolved.startswith("✅ INCIDENT RESOLVED") and "**Duration:** 45 min" in resolved
    assert "Checkout broken" in resolved and "[P1]" not in resolved


def test_incident_github_outage_still_alerts_and_keeps_a_local_file(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker, smtp_server: SmtpServer
) -> None:
    fake_github.fail_next[("GET", "issues")] = [500]
    inc = open_incident(
        settings(tmp_path, smtp_server),
        key="k",
        severity=Severity.P0,
        title="Down",
        impact="down",
        github=tracker,
        now=T0,
    )
    assert inc.outcome("github").status is Status.FAIL
    assert "500" in inc.outcome("github").summary
    assert inc.outcome("local").status is Status.PASS
    assert inc.outcome("email").status is Status.PASS
    assert len(smtp_server.box.messages) == 1
    assert (tmp_path / "incidents" / "k.md").is_file()
    assert not inc.ok


def test_incident_permission_error_says_which_permission(fake_github: FakeGitHub, tracker: IssueTracker) -> None:
    fake_github.fail_next[("GET", "issues")] = [403]
    with pytest.raises(ApiError) as caught:
        tracker.find_open(marker("k"), "incident")
    assert caught.value.status == 403
    assert "issues: write" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_incident_issue_state_survives_hand_edits(
    tmp_path: Path, fake_github: FakeGitHub, tracker: IssueTracker
) -> None:
    # Someone rewrote the body by hand, keeping only the marker: severity and start come from GitHub.
    fake_github.add_issue(
        "[P2] Slow", marker("k") + "\n\nsee thread", ["incident", "P2"], created_at="2026-12-03T08:00:00Z"
    )
    done = resolve_incident(
        settings(tmp_path), key="k", resolution="r", root_cause="c", prevention="p", github=tracker, now=T0
    )
    assert done.severity is Severity.P2
    assert "**Duration:** 1 h" in done.message.text
