"""The monitoring gate: every item the runbook requires, from the config or from a --monitoring file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from aikinklab_ops.config import Config, load_config
from aikinklab_ops.gates import GateInputs, run_gates
from aikinklab_ops.gates.examples import artifacts_dir
from aikinklab_ops.report import CheckResult, Status


def gate(tmp_path: Path, cfg: Config | None = None, monitoring: Path | None = None) -> CheckResult:
    cfg = cfg or load_config(None, env={}, cwd=tmp_path)
    inputs = GateInputs(cwd=tmp_path, monitoring=monitoring)
    return run_gates(cfg, inputs, only=["monitoring"]).check("monitoring")


def test_bundled_example_is_complete(tmp_path: Path) -> None:
    result = gate(tmp_path, monitoring=artifacts_dir() / "monitoring.yml")
    assert result.status is Status.PASS
    assert result.summary == "health /api/health every 30s; alerts high→email+sms, medium→email, low→dashboard"
    assert result.label == "Monitoring alerts configured"


def test_defaults_name_each_missing_channel_setting(tmp_path: Path) -> None:
    result = gate(tmp_path)
    assert result.status is Status.FAIL
    assert result.details["missing"] == [
        "alerts.channels.email.smtp_host: not set",
        "alerts.channels.email.recipients: no recipient",
        "alerts.channels.sms.webhook_url: not set",
    ]


def test_complete_ops_yml_passes_without_leaking_the_webhook(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        textwrap.dedent("""\
        alerts:
          channels:
            email: {smtp_host: smtp.example.com, recipients: [oncall@aikinklab.com]}
            sms: {webhook_url: "${SMS_WEBHOOK_URL}"}
        """)
    )
    hook = "https://sms.example.com/hook?token=s3cr3t-value-123"
    cfg = load_config(None, env={"SMS_WEBHOOK_URL": hook}, cwd=tmp_path)
    result = gate(tmp_path, cfg)
    assert result.status is Status.PASS
    assert "s3cr3t" not in str(result.to_dict())


def _without_interval(d: dict[str, Any]) -> None:
    d["monitor"]["interval_s"] = 0


def _without_health_path(d: dict[str, Any]) -> None:
    d["verify"]["health"]["path"] = ""


def _high_email_only(d: dict[str, Any]) -> None:
    d["alerts"]["routes"]["high"] = ["email"]


def _low_chat_only(d: dict[str, Any]) -> None:
    d["alerts"]["routes"]["low"] = ["chat"]
    d["alerts"]["channels"]["chat"] = {"webhook_url": "${CHAT_WEBHOOK_URL}"}


def _low_adds_chat(d: dict[str, Any]) -> None:
    d["alerts"]["routes"]["low"] = ["dashboard", "chat"]


def _chat_without_webhook(d: dict[str, Any]) -> None:
    d["alerts"]["routes"]["medium"] = ["email", "chat"]
    d["alerts"]["channels"]["chat"] = {"webhook_url": None}


def _email_without_recipients(d: dict[str, Any]) -> None:
    d["alerts"]["channels"]["email"]["recipients"] = []


def _no_sla_uptime(d: dict[str, Any]) -> None:
    d["sla"] = {"p95_ms": 2000, "error_rate_percent": 0.1}


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (_without_interval, "health check interval (monitor.interval_s)"),
        (_without_health_path, "health check endpoint (verify.health.path)"),
        (_high_email_only, "alerts.routes.high: sms missing (the runbook: email + sms)"),
        (_low_chat_only, "alerts.routes.low: dashboard missing (the runbook: dashboard)"),
        (_low_adds_chat, "alerts.channels.chat: not configured"),
        (_chat_without_webhook, "alerts.channels.chat.webhook_url: not set"),
        (_email_without_recipients, "alerts.channels.email.recipients: no recipient"),
        (_no_sla_uptime, "sla.uptime_percent: not set"),
    ],
)
def test_each_missing_item_is_named(change: Callable[[dict[str, Any]], None], missing: str, tmp_path: Path) -> None:
    data = yaml.safe_load((artifacts_dir() / "monitoring.yml").read_text())
    change(data)
    path = tmp_path / "monitoring.yml"
    path.write_text(yaml.safe_dump(data))
    result = gate(tmp_path, monitoring=path)
    assert result.status is Status.FAIL
    assert missing in result.details["missing"]
    assert len(result.details["missing"]) == 1


def test_file_without_monitor_or_alerts_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.yml"
    path.write_text("monitoring: yes\n")
    result = gate(tmp_path, monitoring=path)
    assert result.status is Status.ERROR
    assert "expected a mapping with monitor: and alerts: sections" in result.summary
