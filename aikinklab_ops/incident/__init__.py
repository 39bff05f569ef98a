"""Incidents: the runbook's severity model, its alert messages, and a record per incident.

The pipeline and the monitor call ``open_incident`` / ``update_incident`` / ``resolve_incident``;
``classify`` turns a verification or monitor Report into a severity.
"""

from aikinklab_ops.incident.channels import ChannelOutcome
from aikinklab_ops.incident.core import (
    Incident,
    IncidentNotFound,
    build_tracker,
    find_incident,
    open_incident,
    resolve_incident,
    update_incident,
)
from aikinklab_ops.incident.messages import Message, render_alert, render_resolved, render_update
from aikinklab_ops.incident.reports import report_from_dict
from aikinklab_ops.incident.settings import (
    AlertSettings,
    EmailSettings,
    IncidentSettings,
    Thresholds,
    WebhookSettings,
    build_alert_settings,
    build_incident_settings,
    build_thresholds,
)
from aikinklab_ops.incident.severity import Finding, Severity, classify, findings

__all__ = [
    "AlertSettings",
    "ChannelOutcome",
    "EmailSettings",
    "Finding",
    "Incident",
    "IncidentNotFound",
    "IncidentSettings",
    "Message",
    "Severity",
    "Thresholds",
    "WebhookSettings",
    "build_alert_settings",
    "build_incident_settings",
    "build_thresholds",
    "build_tracker",
    "classify",
    "find_incident",
    "findings",
    "open_incident",
    "render_alert",
    "render_resolved",
    "render_update",
    "report_from_dict",
    "resolve_incident",
    "update_incident",
]
