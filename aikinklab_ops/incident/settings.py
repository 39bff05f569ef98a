"""Frozen settings for incidents and alerts, built once from the config sections they own.

Validation the schema cannot express (a route naming a channel that is half configured, say) is
not an error here: an unconfigured channel is reported when an alert would use it, so a demo
without SMTP still records its incidents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aikinklab_ops.config import Config

CHANNELS = ("email", "sms", "chat", "dashboard")
PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class EmailSettings:
    smtp_host: str | None = None
    smtp_port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    timeout_s: float = 15.0

    def missing(self) -> list[str]:
        """The settings an operator still has to give before an email can go out."""
        out = []
        if not self.smtp_host:
            out.append("alerts.channels.email.smtp_host")
        if not self.recipients:
            out.append("alerts.channels.email.recipients")
        if self.password and not self.username:
            out.append("alerts.channels.email.username")
        return out


@dataclass(frozen=True)
class WebhookSettings:
    name: str
    webhook_url: str | None = field(default=None, repr=False)
    recipients: tuple[str, ...] = ()
    timeout_s: float = 10.0
    needs_recipients: bool = False

    def missing(self) -> list[str]:
        out = []
        if not self.webhook_url:
            out.append(f"alerts.channels.{self.name}.webhook_url")
        if self.needs_recipients and not self.recipients:
            out.append(f"alerts.channels.{self.name}.recipients")
        return out


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float = 2000.0
    error_rate_percent: float = 0.1
    uptime_percent: float = 99.9


@dataclass(frozen=True)
class AlertSettings:
    routes: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"high": ("email", "sms"), "medium": ("email",), "low": ("dashboard",)}
    )
    email: EmailSettings = field(default_factory=EmailSettings)
    sms: WebhookSettings = field(default_factory=lambda: WebhookSettings("sms", needs_recipients=True))
    chat: WebhookSettings = field(default_factory=lambda: WebhookSettings("chat"))
    thresholds: Thresholds = field(default_factory=Thresholds)

    def route(self, priority: str) -> tuple[str, ...]:
        return self.routes.get(priority, ())


@dataclass(frozen=True)
class IncidentSettings:
    local_dir: Path = Path(".aikinklab-ops/incidents")
    labels: tuple[str, ...] = ("incident",)
    repository: str | None = None
    assignees: tuple[str, ...] = ()
    timeout_s: float = 15.0
    alerts: AlertSettings = field(default_factory=AlertSettings)
    site: str = "www.aikinklab.com"


def _num(value: Any, fallback: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


def build_thresholds(cfg: Config) -> Thresholds:
    """alerts.thresholds, each null falling back to the sla section (the gate reads the same)."""
    sla = cfg.section("sla")
    th = cfg.section("alerts").get("thresholds") or {}
    return Thresholds(
        p95_ms=_num(th.get("p95_ms"), _num(sla.get("p95_ms"), 2000.0)),
        error_rate_percent=_num(th.get("error_rate_percent"), _num(sla.get("error_rate_percent"), 0.1)),
        uptime_percent=_num(th.get("uptime_percent"), _num(sla.get("uptime_percent"), 99.9)),
    )


def build_alert_settings(cfg: Config) -> AlertSettings:
    alerts = cfg.section("alerts")
    routes_raw = alerts.get("routes") or {}
    routes = {p: tuple(routes_raw.get(p) or ()) for p in PRIORITIES}
    channels = alerts.get("channels") or {}
    em = channels.get("email") or {}
    sms = channels.get("sms") or {}
    chat = channels.get("chat") or {}
    domain = str(cfg.get("project.domain") or "aikinklab.com").removeprefix("www.")
    email = EmailSettings(
        smtp_host=em.get("smtp_host") or None,
        smtp_port=int(em.get("smtp_port") or 587),
        starttls=bool(em.get("starttls", True)),
        username=em.get("username") or None,
        password=em.get("password") or None,
        # Without a sender the mail still goes out from the project's domain; the monitoring gate
        # asks only for smtp_host and recipients, so this must not be a second requirement.
        sender=em.get("sender") or f"aikinklab-ops@{domain}",
        recipients=tuple(em.get("recipients") or ()),
        timeout_s=_num(em.get("timeout_s"), 15.0),
    )
    return AlertSettings(
        routes=routes,
        email=email,
        sms=WebhookSettings(
            "sms",
            webhook_url=sms.get("webhook_url") or None,
            recipients=tuple(sms.get("recipients") or ()),
            timeout_s=_num(sms.get("timeout_s"), 10.0),
            needs_recipients=True,
        ),
        chat=WebhookSettings(
            "chat", webhook_url=chat.get("webhook_url") or None, timeout_s=_num(chat.get("timeout_s"), 10.0)
        ),
        thresholds=build_thresholds(cfg),
    )


def build_incident_settings(cfg: Config, *, cwd: Path) -> IncidentSettings:
    inc = cfg.section("incident")
    local = Path(str(inc.get("local_dir") or ".aikinklab-ops/incidents"))
    return IncidentSettings(
        local_dir=local if local.is_absolute() else cwd / local,
        labels=tuple(inc.get("labels") or ("incident",)),
        repository=inc.get("repository") or None,
        assignees=tuple(inc.get("assignees") or ()),
        timeout_s=_num(inc.get("timeout_s"), 15.0),
        alerts=build_alert_settings(cfg),
        site=str(cfg.get("project.domain") or "www.aikinklab.com"),
    )
