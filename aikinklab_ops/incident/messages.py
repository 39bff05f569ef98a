"""The runbook's INCIDENT ALERT / UPDATE / RESOLVED messages, rendered from packaged templates.

Templates are ``string.Template`` files in ``templates/`` so the wording can change without
touching code; ``safe_substitute`` is not used, so a template naming a value nobody provides
fails the tests instead of mailing ``$impact`` to the on-call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from aikinklab_ops.incident.severity import Severity, human_duration

TEMPLATES = ("alert", "update", "resolved")


@cache
def template(name: str) -> Template:
    text = (
        resources.files("aikinklab_ops.incident")
        .joinpath("templates")
        .joinpath(f"{name}.md")
        .read_text(encoding="utf-8")
    )
    return Template(text)


@dataclass(frozen=True)
class Message:
    """One rendered message: ``subject`` for email and chat previews, ``text`` for the body."""

    subject: str
    text: str


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _details_block(details: Mapping[str, Any] | str | None) -> str:
    if not details:
        return ""
    if isinstance(details, str):
        return "\n" + details.strip() + "\n"
    lines = [f"- **{k}:** {v}" for k, v in details.items()]
    return "\n**Details:**\n" + "\n".join(lines) + "\n"


def _render(name: str, values: Mapping[str, str]) -> str:
    text = template(name).substitute(values)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def render_alert(
    *,
    severity: Severity,
    title: str,
    impact: str,
    status: str,
    opened_at: datetime,
    site: str,
    eta: str | None = None,
    details: Mapping[str, Any] | str | None = None,
) -> Message:
    text = _render(
        "alert",
        {
            "severity": severity.value,
            "meaning": severity.meaning,
            "response_time": human_duration(severity.response_time),
            "title": title,
            "impact": impact,
            "status": status,
            "eta": eta or "unknown — next update will say",
            "cadence": human_duration(severity.update_every),
            "opened_at": _stamp(opened_at),
            "site": site,
            "details": _details_block(details),
        },
    )
    return Message(f"🚨 INCIDENT ALERT - {severity.value}: {title}", text)


def render_update(
    *,
    severity: Severity,
    title: str,
    impact: str,
    status: str,
    opened_at: datetime,
    now: datetime,
    eta: str | None = None,
    details: Mapping[str, Any] | str | None = None,
) -> Message:
    text = _render(
        "update",
        {
            "severity": severity.value,
            "meaning": severity.meaning,
            "title": title,
            "impact": impact,
            "status": status,
            "eta": eta or "unknown — next update will say",
            "cadence": human_duration(severity.update_every),
            "elapsed": human_duration(now - opened_at),
            "details": _details_block(details),
        },
    )
    return Message(f"🔄 INCIDENT UPDATE - {severity.value}: {title}", text)


def render_resolved(
    *,
    severity: Severity,
    title: str,
    resolution: str,
    root_cause: str,
    prevention: str,
    opened_at: datetime,
    resolved_at: datetime,
) -> Message:
    text = _render(
        "resolved",
        {
            "severity": severity.value,
            "title": title,
            "resolution": resolution,
            "root_cause": root_cause,
            "prevention": prevention,
            "duration": human_duration(resolved_at - opened_at),
            "opened_at": _stamp(opened_at),
            "resolved_at": _stamp(resolved_at),
        },
    )
    return Message(f"✅ INCIDENT RESOLVED: {title}", text)
