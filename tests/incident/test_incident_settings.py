from __future__ import annotations

from pathlib import Path

from aikinklab_ops.config import load_config
from aikinklab_ops.incident import build_incident_settings


def test_incident_defaults_are_aikinklabs(tmp_path: Path) -> None:
    s = build_incident_settings(load_config(cwd=tmp_path), cwd=tmp_path)
    assert dict(s.alerts.routes) == {"high": ("email", "sms"), "medium": ("email",), "low": ("dashboard",)}
    assert s.local_dir == tmp_path / ".aikinklab-ops" / "incidents"
    assert s.labels == ("incident",)
    # unknown channel settings stay empty, so the monitoring gate reports them missing
    assert s.alerts.email.smtp_host is None and s.alerts.email.recipients == ()
    assert s.alerts.sms.webhook_url is None and s.alerts.chat.webhook_url is None
    assert (s.alerts.email.smtp_port, s.alerts.email.starttls) == (587, True)
    assert s.alerts.email.sender == "aikinklab-ops@aikinklab.com"
    th = s.alerts.thresholds
    assert (th.p95_ms, th.error_rate_percent, th.uptime_percent) == (2000, 0.1, 99.9)


def test_incident_secrets_come_from_the_environment_and_are_masked(tmp_path: Path) -> None:
    (tmp_path / "ops.yml").write_text(
        "alerts:\n  channels:\n    email:\n      smtp_host: ${SMTP_HOST}\n      password: ${SMTP_PASSWORD}\n"
        "    chat:\n      webhook_url: ${CHAT_HOOK}\n  thresholds:\n    uptime_percent: null\n"
        "sla:\n  uptime_percent: 99.5\n"
    )
    env = {
        "SMTP_HOST": "smtp.example.com",
        "SMTP_PASSWORD": "pw-123456789",
        "CHAT_HOOK": "https://hooks.example/T/B/tok",
    }
    cfg = load_config(cwd=tmp_path, env=env)
    s = build_incident_settings(cfg, cwd=tmp_path)
    assert s.alerts.email.smtp_host == "smtp.example.com"
    assert s.alerts.email.password == "pw-123456789"
    assert s.alerts.thresholds.uptime_percent == 99.5  # null follows the sla
    masked = cfg.masked()["alerts"]["channels"]
    assert masked["email"]["password"] == "***" and masked["chat"]["webhook_url"] == "***"
    # x-secret values are redacted by the CLI even though CHAT_HOOK does not look like a secret name
    assert "https://hooks.example/T/B/tok" in cfg.secrets
    assert "pw-123456789" not in repr(s)
