"""Gate ``monitoring``: the alerting the runbook promises is actually configured before a deploy.

The runbook wants a health check endpoint probed at a fixed interval, alerts routed by priority
(high: email and SMS; medium: email; low: the dashboard), and the SLA and performance thresholds
that raise them. Each channel a route uses must be able to deliver: email needs an SMTP host and a
recipient, SMS a webhook. Every missing item is named, because "monitoring incomplete" tells an
operator nothing.

The values come from the effective config (``monitor``, ``alerts``, ``verify.health.path``,
``sla``) or from a YAML file with the same top-level keys (``--monitoring``); in the file,
``${VAR}`` references count as set, since the file is checked for completeness, not reachability.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.gates.base import GateContext, parse_yaml_input, read_text
from aikinklab_ops.report import CheckResult, Status

NAME = "monitoring"
LABEL = "Monitoring alerts configured"
# The runbook's routing: every listed channel must be in the route.
REQUIRED_ROUTES = {"high": ("email", "sms"), "medium": ("email",), "low": ("dashboard",)}
KNOWN_CHANNELS = ("email", "sms", "chat", "dashboard")
SLA_KEYS = ("uptime_percent", "p95_ms", "error_rate_percent")


def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _set(value: Any) -> bool:
    return value not in (None, "", [], {})


def channel_problems(name: str, spec: Mapping[str, Any] | None) -> list[str]:
    if name == "dashboard":  # the incident issue or file and the job summary: nothing to configure
        return []
    if spec is None:
        return [f"alerts.channels.{name}: not configured"]
    if name == "email":
        out = []
        if not _set(spec.get("smtp_host")):
            out.append("alerts.channels.email.smtp_host: not set")
        recipients = spec.get("recipients")
        if recipients is not None and not isinstance(recipients, list):
            out.append("alerts.channels.email.recipients: expected a list of addresses, e.g. [oncall@example.com]")
        elif not [r for r in recipients or () if _set(r)]:
            out.append("alerts.channels.email.recipients: no recipient")
        return out
    if name in ("sms", "chat"):
        return [] if _set(spec.get("webhook_url")) else [f"alerts.channels.{name}.webhook_url: not set"]
    return []


def monitoring_problems(
    monitor: Mapping[str, Any], alerts: Mapping[str, Any], health_path: Any, sla: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    missing: list[str] = []
    if not _set(health_path):
        missing.append("health check endpoint (verify.health.path)")
    interval = monitor.get("interval_s")
    if not isinstance(interval, (int, float)) or isinstance(interval, bool) or interval <= 0:
        missing.append("health check interval (monitor.interval_s)")
    routes = _m(alerts.get("routes"))
    channels = _m(alerts.get("channels"))
    used: list[str] = []
    for priority, wanted in REQUIRED_ROUTES.items():
        route = routes.get(priority)
        if not isinstance(route, list):
            missing.append(f"alerts.routes.{priority}: no route (the runbook: {' + '.join(wanted)})")
            continue
        odd = [c for c in route if c not in KNOWN_CHANNELS]
        if odd:
            missing.append(
                f"alerts.routes.{priority}: unknown channel {', '.join(repr(c) for c in odd)}"
                f" (use {', '.join(KNOWN_CHANNELS)})"
            )
        for channel in wanted:
            if channel not in route:
                missing.append(f"alerts.routes.{priority}: {channel} missing (the runbook: {' + '.join(wanted)})")
        used += [c for c in route if c in KNOWN_CHANNELS and c not in used]
    for channel in used:
        spec = channels.get(channel)
        missing += channel_problems(str(channel), spec if isinstance(spec, Mapping) else None)
    for key in SLA_KEYS:
        if not isinstance(sla.get(key), (int, float)):
            missing.append(f"sla.{key}: not set")
    thresholds = _m(alerts.get("thresholds"))
    for key in ("p95_ms", "error_rate_percent", "uptime_percent"):
        # null follows the sla value (the alerts section's own rule).
        if not isinstance(thresholds.get(key), (int, float)) and not isinstance(sla.get(key), (int, float)):
            missing.append(f"alerts.thresholds.{key}: not set (and no sla.{key} to follow)")
    details = {
        "health_path": health_path,
        "interval_s": interval,
        "routes": {k: routes.get(k) for k in REQUIRED_ROUTES},
        "channels_used": used,
        "sla": {k: sla.get(k) for k in SLA_KEYS},
        "thresholds": {k: thresholds.get(k) for k in ("p95_ms", "error_rate_percent", "uptime_percent")},
    }
    return missing, details


def run(ctx: GateContext) -> CheckResult:
    cfg = ctx.cfg
    path = ctx.settings.monitoring_file
    monitor, alerts = cfg.section("monitor"), cfg.section("alerts")
    health_path = cfg.get("verify.health.path")
    sla: Mapping[str, Any] = cfg.section("sla")
    source = cfg.source
    if path is not None:
        text = read_text(path, "monitoring configuration", "the repository (a YAML file with monitor: and alerts:)")
        data, _lines = parse_yaml_input(text, str(path))
        if not isinstance(data, Mapping) or not ({"monitor", "alerts"} & set(data)):
            raise InputError(
                f"{path}: expected a mapping with monitor: and alerts: sections",
                hint="use the same keys as ops.yml: monitor, alerts (and optionally sla, verify.health.path)",
            )
        monitor, alerts = dict(_m(data.get("monitor"))), dict(_m(data.get("alerts")))
        if "sla" in data:
            sla = _m(data.get("sla"))
        file_health = _m(_m(data.get("verify")).get("health")).get("path")
        health_path = file_health if file_health is not None else health_path
        source = str(path)
    missing, details = monitoring_problems(monitor, alerts, health_path, sla)
    details = {"source": source, **details}
    if missing:
        details["missing"] = missing
        more = f" (+{len(missing) - 4} more)" if len(missing) > 4 else ""
        return CheckResult(
            NAME, Status.FAIL, f"{len(missing)} missing: " + "; ".join(missing[:4]) + more, details, label=LABEL
        )
    return CheckResult(
        NAME,
        Status.PASS,
        f"health {health_path} every {details['interval_s']:g}s; alerts high→{'+'.join(alerts['routes']['high'])}, "
        f"medium→{'+'.join(alerts['routes']['medium'])}, low→{'+'.join(alerts['routes']['low'])}",
        details,
        label=LABEL,
    )
