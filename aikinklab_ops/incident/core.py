"""Open, update and resolve incidents: one record per key, alerts routed by priority.

Every step is attempted and reported on its own: a GitHub outage still lets the email and the
SMS go out (and the incident is then written to the local folder so nothing is lost), and a dead
SMS gateway does not keep the email from leaving. Reruns are safe: an open incident with the
same key is found by its marker and updated, and an open incident whose severity has not changed
is re-announced only once its update cadence (P0 every 15 min ... P3 daily) has passed.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import requests

from aikinklab_ops.errors import InputError, OpsError
from aikinklab_ops.github.issues import IssueTracker
from aikinklab_ops.incident.channels import ChannelOutcome, post_webhook, send_email
from aikinklab_ops.incident.messages import Message, render_alert, render_resolved, render_update
from aikinklab_ops.incident.settings import CHANNELS, IncidentSettings
from aikinklab_ops.incident.severity import Severity, human_duration
from aikinklab_ops.incident.store import GitHubStore, IncidentState, IncidentStore, LocalStore, Record, check_key
from aikinklab_ops.report import CheckResult, Report, Status


class IncidentNotFound(InputError):
    """No open incident has this key."""


@dataclass(frozen=True)
class Incident:
    """What an open/update/resolve did: the incident as it now stands and one outcome per channel."""

    key: str
    severity: Severity
    title: str
    action: str  # opened | updated | unchanged | resolved
    state: str  # open | resolved
    opened_at: datetime
    location: str | None
    number: int | None
    message: Message
    outcomes: tuple[ChannelOutcome, ...]
    resolved_at: datetime | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def ok(self) -> bool:
        return not any(o.status.failing for o in self.outcomes)

    def outcome(self, channel: str) -> ChannelOutcome:
        for o in self.outcomes:
            if o.channel == channel:
                return o
        raise KeyError(channel)

    def to_check(self, name: str = "incident") -> CheckResult:
        """One line for a bigger report (the pipeline's, the monitor's): fails if any channel failed."""
        failed = [o.channel for o in self.outcomes if o.status.failing]
        where = f" #{self.number}" if self.number else (f" {self.location}" if self.location else "")
        summary = f"{self.action} {self.key} ({self.severity.value}){where}"
        details: dict[str, Any] = {o.channel: f"{o.status.value}: {o.summary}" for o in self.outcomes}
        if self.location:
            details["location"] = self.location
        if failed:
            return CheckResult(name, Status.FAIL, summary + f"; failed: {', '.join(failed)}", details)
        return CheckResult(name, Status.PASS, summary, details)

    def to_report(self) -> Report:
        checks = tuple(CheckResult(o.channel, o.status, o.summary, dict(o.details)) for o in self.outcomes)
        outputs = {
            "key": self.key,
            "severity": self.severity.value,
            "action": self.action,
            "state": self.state,
            "issue-url": self.location if self.location and self.location.startswith("http") else "",
            "issue-number": str(self.number or ""),
            "incident-file": self.location if self.location and not self.location.startswith("http") else "",
        }
        return Report(
            "incident",
            checks,
            target=f"{self.key} ({self.severity.value})",
            started_at=self.started_at,
            outputs=outputs,
        )


def _now(now: datetime | None) -> datetime:
    when = now or datetime.now(timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def build_tracker(
    settings: IncidentSettings, *, token: str | None, repository: str | None, api_url: str = "https://api.github.com"
) -> IssueTracker | None:
    """The GitHub tracker when there are credentials, else None (incidents go to local files)."""
    repo = settings.repository or repository
    if not token or not repo:
        return None
    return IssueTracker(repo, token=token, api_url=api_url, timeout_s=settings.timeout_s)


def _store(settings: IncidentSettings, github: IssueTracker | None) -> IncidentStore:
    if github is None:
        return LocalStore(settings.local_dir)
    return GitHubStore(github, settings.labels, settings.assignees)


def _record_outcome(store: IncidentStore, record: Record, action: str, extra: str = "") -> ChannelOutcome:
    where = f"issue #{record.number}" if record.number else record.location
    details: dict[str, Any] = {"location": record.location}
    if record.number:
        details["number"] = record.number
    return ChannelOutcome(store.kind, Status.PASS, f"{action} {where}{extra}", details)


def _failure(channel: str, err: OpsError) -> ChannelOutcome:
    return ChannelOutcome(channel, Status.FAIL, str(err), {"error": type(err).__name__})


@dataclass(frozen=True)
class _Senders:
    ssl_context: ssl.SSLContext | None = None
    session: requests.Session | None = None


def _notify(
    settings: IncidentSettings,
    severity: Severity,
    message: Message,
    *,
    event: str,
    key: str,
    status: str,
    record: Record | None,
    senders: _Senders,
    skip_reason: str | None = None,
) -> list[ChannelOutcome]:
    priority = severity.priority
    route = settings.alerts.route(priority)
    url = record.location if record and record.location.startswith("http") else None
    out: list[ChannelOutcome] = []
    for channel in CHANNELS:
        if channel not in route:
            out.append(ChannelOutcome(channel, Status.SKIP, f"not routed for {priority} priority ({severity.value})"))
            continue
        if skip_reason:
            out.append(ChannelOutcome(channel, Status.SKIP, skip_reason))
            continue
        if channel == "dashboard":
            where = (f"issue #{record.number}" if record.number else record.location) if record else "the job summary"
            out.append(ChannelOutcome("dashboard", Status.PASS, f"shown on {where} and in the job summary"))
        elif channel == "email":
            out.append(send_email(settings.alerts.email, message, ssl_context=senders.ssl_context))
        else:
            hook = settings.alerts.sms if channel == "sms" else settings.alerts.chat
            short = message.subject + (f" — {status}" if status else "") + (f" {url}" if url else "")
            payload = {
                "event": f"incident.{event}",
                "key": key,
                "severity": severity.value,
                "priority": priority,
                "title": message.subject,
                "status": status,
                "text": short if channel == "sms" else message.text,
                "url": url,
            }
            out.append(post_webhook(hook, payload, session=senders.session))
    return out


def open_incident(
    settings: IncidentSettings,
    *,
    key: str,
    severity: Severity,
    title: str,
    impact: str,
    status: str = "Investigating",
    eta: str | None = None,
    details: Mapping[str, Any] | str | None = None,
    github: IssueTracker | None = None,
    now: datetime | None = None,
    force: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    session: requests.Session | None = None,
) -> Incident:
    """Open the incident ``key``, or bring the open one up to date; send the alert where routed.

    Opening a key that is already open is an update (a rerun must not file a duplicate): a
    changed severity relabels and re-alerts at once; the same severity re-alerts only when the
    update cadence has passed since the last alert (``force`` overrides).
    """
    check_key(key)
    # One line: it becomes an issue title and an email subject, where a newline is an injection.
    title = " ".join(title.split())
    if not title:
        raise InputError("incident title is empty", hint="say in one line what is wrong, e.g. --title 'Checkout 500s'")
    when = _now(now)
    senders = _Senders(ssl_context, session)
    store = _store(settings, github)
    outcomes: list[ChannelOutcome] = []

    def without_store(err: OpsError) -> Incident:
        return _open_without_store(
            settings,
            store,
            err,
            key=key,
            severity=severity,
            title=title,
            impact=impact,
            status=status,
            eta=eta,
            details=details,
            when=when,
            senders=senders,
        )

    existing: Record | None = None
    try:
        existing = store.find(key)
    except OpsError as err:
        return without_store(err)
    if existing is None:
        message = render_alert(
            severity=severity,
            title=title,
            impact=impact,
            status=status,
            opened_at=when,
            site=settings.site,
            eta=eta,
            details=details,
        )
        state = IncidentState(
            key=key, title=title, severity=severity, opened_at=when, last_alert_at=when, current=status, impact=impact
        )
        try:
            record: Record | None = store.create(state, message.text)
        except OpsError as err:
            return without_store(err)
        assert record is not None
        outcomes.append(_record_outcome(store, record, "opened"))
        outcomes += _notify(
            settings, severity, message, event="alert", key=key, status=status, record=record, senders=senders
        )
        return Incident(
            key,
            severity,
            title,
            "opened",
            "open",
            when,
            record.location,
            record.number,
            message,
            tuple(outcomes),
            started_at=when,
        )

    old = existing.state
    due = when - old.last_alert_at >= min(old.severity.update_every, severity.update_every)
    if severity is old.severity and not due and not force:
        wait = old.last_alert_at + severity.update_every - when
        note = (
            f"already open; last alert {human_duration(when - old.last_alert_at)} ago, "
            f"next {severity.value} update due in {human_duration(wait)}"
        )
        message = render_update(
            severity=severity,
            title=old.title or title,
            impact=impact,
            status=status,
            opened_at=old.opened_at,
            now=when,
            eta=eta,
            details=details,
        )
        outcomes.append(_record_outcome(store, existing, "unchanged:", f" ({note})"))
        outcomes += _notify(
            settings,
            severity,
            message,
            event="update",
            key=key,
            status=status,
            record=existing,
            senders=senders,
            skip_reason=f"not re-sent: {note}",
        )
        return Incident(
            key,
            severity,
            old.title or title,
            "unchanged",
            "open",
            old.opened_at,
            existing.location,
            existing.number,
            message,
            tuple(outcomes),
            started_at=when,
        )
    extra: dict[str, Any] = dict(details) if isinstance(details, Mapping) else {}
    if severity is not old.severity:
        extra["Severity changed"] = f"{old.severity.value} → {severity.value}"
    body_details: Mapping[str, Any] | str | None = extra or details
    if severity.worse_than(old.severity):
        message = render_alert(
            severity=severity,
            title=old.title or title,
            impact=impact,
            status=status,
            opened_at=old.opened_at,
            site=settings.site,
            eta=eta,
            details=body_details,
        )
        event = "alert"
    else:
        message = render_update(
            severity=severity,
            title=old.title or title,
            impact=impact,
            status=status,
            opened_at=old.opened_at,
            now=when,
            eta=eta,
            details=body_details,
        )
        event = "update"
    return _apply_update(
        settings,
        store,
        existing,
        message,
        severity=severity,
        status=status,
        impact=impact,
        when=when,
        event=event,
        senders=senders,
    )


def _apply_update(
    settings: IncidentSettings,
    store: IncidentStore,
    existing: Record,
    message: Message,
    *,
    severity: Severity,
    status: str,
    impact: str,
    when: datetime,
    event: str,
    senders: _Senders,
) -> Incident:
    state = replace(
        existing.state, severity=severity, last_alert_at=when, current=status, impact=impact or existing.state.impact
    )
    outcomes: list[ChannelOutcome] = []
    record: Record = existing
    try:
        record = store.update(existing, state, message.text, comment=message.text)
        outcomes.append(_record_outcome(store, record, "updated"))
    except OpsError as err:
        outcomes.append(_failure(store.kind, err))
    outcomes += _notify(
        settings, severity, message, event=event, key=state.key, status=status, record=record, senders=senders
    )
    return Incident(
        state.key,
        severity,
        state.title,
        "updated",
        "open",
        state.opened_at,
        record.location,
        record.number,
        message,
        tuple(outcomes),
        started_at=when,
    )


def _open_without_store(
    settings: IncidentSettings,
    store: IncidentStore,
    err: OpsError,
    *,
    key: str,
    severity: Severity,
    title: str,
    impact: str,
    status: str,
    eta: str | None,
    details: Mapping[str, Any] | str | None,
    when: datetime,
    senders: _Senders,
) -> Incident:
    """GitHub failed: alert anyway and keep the incident in a local file, so nothing is lost."""
    message = render_alert(
        severity=severity,
        title=title,
        impact=impact,
        status=status,
        opened_at=when,
        site=settings.site,
        eta=eta,
        details=details,
    )
    outcomes = [_failure(store.kind, err)]
    record: Record | None = None
    if store.kind != "local":
        local = LocalStore(settings.local_dir)
        state = IncidentState(
            key=key, title=title, severity=severity, opened_at=when, last_alert_at=when, current=status, impact=impact
        )
        try:
            record = local.find(key) or local.create(state, message.text)
            outcomes.append(_record_outcome(local, record, "kept locally in", " (GitHub failed)"))
        except OpsError as local_err:
            outcomes.append(_failure("local", local_err))
    outcomes += _notify(
        settings, severity, message, event="alert", key=key, status=status, record=record, senders=senders
    )
    return Incident(
        key,
        severity,
        title,
        "opened",
        "open",
        when,
        record.location if record else None,
        None,
        message,
        tuple(outcomes),
        started_at=when,
    )


def _require(store: IncidentStore, key: str) -> Record:
    check_key(key)
    record = store.find(key)
    if record is None:
        where = (
            "among open GitHub issues labelled incident" if store.kind == "github" else "in the local incident folder"
        )
        raise IncidentNotFound(
            f"no open incident with key {key!r} {where}",
            hint="check the key (it is in the issue body's first line), or open one with `incident open`",
        )
    return record


def find_incident(settings: IncidentSettings, *, key: str, github: IssueTracker | None = None) -> Record | None:
    """The open incident with this key, if any (the monitor asks before resolving)."""
    check_key(key)
    return _store(settings, github).find(key)


def update_incident(
    settings: IncidentSettings,
    *,
    key: str,
    status: str,
    impact: str | None = None,
    eta: str | None = None,
    severity: Severity | None = None,
    details: Mapping[str, Any] | str | None = None,
    github: IssueTracker | None = None,
    now: datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
    session: requests.Session | None = None,
) -> Incident:
    """Post an INCIDENT UPDATE (a comment, and the routed channels); a new severity relabels it."""
    when = _now(now)
    store = _store(settings, github)
    existing = _require(store, key)
    old = existing.state
    new = severity or old.severity
    extra: dict[str, Any] = dict(details) if isinstance(details, Mapping) else {}
    if new is not old.severity:
        extra["Severity changed"] = f"{old.severity.value} → {new.value}"
    message = render_update(
        severity=new,
        title=old.title,
        impact=impact or old.impact or "unchanged",
        status=status,
        opened_at=old.opened_at,
        now=when,
        eta=eta,
        details=extra or details,
    )
    return _apply_update(
        settings,
        store,
        existing,
        message,
        severity=new,
        status=status,
        impact=impact or "",
        when=when,
        event="update",
        senders=_Senders(ssl_context, session),
    )


def resolve_incident(
    settings: IncidentSettings,
    *,
    key: str,
    resolution: str,
    root_cause: str,
    prevention: str,
    github: IssueTracker | None = None,
    now: datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
    session: requests.Session | None = None,
) -> Incident:
    """Post INCIDENT RESOLVED with the duration since opening, close the record, tell the routed channels."""
    when = _now(now)
    store = _store(settings, github)
    existing = _require(store, key)
    old = existing.state
    message = render_resolved(
        severity=old.severity,
        title=old.title,
        resolution=resolution,
        root_cause=root_cause,
        prevention=prevention,
        opened_at=old.opened_at,
        resolved_at=when,
    )
    state = replace(old, status="resolved", resolved_at=when, last_alert_at=when, current="Resolved")
    outcomes: list[ChannelOutcome] = []
    record = existing
    try:
        record = store.update(existing, state, message.text, comment=message.text, close=True)
        outcomes.append(_record_outcome(store, record, "closed" if store.kind == "github" else "resolved"))
    except OpsError as err:
        outcomes.append(_failure(store.kind, err))
    outcomes += _notify(
        settings,
        old.severity,
        message,
        event="resolved",
        key=key,
        status="Resolved",
        record=record,
        senders=_Senders(ssl_context, session),
    )
    return Incident(
        key,
        old.severity,
        old.title,
        "resolved",
        "resolved",
        old.opened_at,
        record.location,
        record.number,
        message,
        tuple(outcomes),
        resolved_at=when,
        started_at=when,
    )


__all__ = [
    "Incident",
    "IncidentNotFound",
    "build_tracker",
    "find_incident",
    "open_incident",
    "resolve_incident",
    "update_incident",
]
