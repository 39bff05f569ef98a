from __future__ import annotations

import json
import time
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from incident_fakes import SMTP_PASSWORD, Mailbox, SmtpServer, free_port
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aikinklab_ops.incident import EmailSettings, Message, WebhookSettings
from aikinklab_ops.incident.channels import post_webhook, send_email
from aikinklab_ops.report import Status

MSG = Message("🚨 INCIDENT ALERT - P0: Site down", "🚨 INCIDENT ALERT - P0\n\n**Issue:** Site down\n")


def email(server: SmtpServer, **kw: Any) -> EmailSettings:
    base: dict[str, Any] = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "starttls": False,
        "sender": "ops@aikinklab.com",
        "recipients": ("oncall@aikinklab.com", "cto@aikinklab.com"),
        "timeout_s": 5,
    }
    base.update(kw)
    return EmailSettings(**base)


def test_incident_email_is_delivered_through_a_real_smtp_server(smtp_server: SmtpServer) -> None:
    out = send_email(email(smtp_server), MSG)
    assert out.status is Status.PASS, out.summary
    assert len(smtp_server.box.messages) == 1
    mail = smtp_server.box.messages[0]
    assert "INCIDENT ALERT - P0" in str(mail["Subject"]) or "INCIDENT" in mail["Subject"].encode()
    assert smtp_server.box.envelopes[0].rcpt_tos == ["oncall@aikinklab.com", "cto@aikinklab.com"]
    assert smtp_server.box.envelopes[0].mail_from == "ops@aikinklab.com"
    assert "**Issue:** Site down" in mail.get_payload(decode=True).decode()


def test_incident_email_logs_in_when_a_username_is_set(smtp_server: SmtpServer) -> None:
    out = send_email(email(smtp_server, username="ops", password=SMTP_PASSWORD), MSG)
    assert out.status is Status.PASS, out.summary
    assert smtp_server.logins == [("ops", SMTP_PASSWORD)]


def test_incident_email_refused_login_names_the_user_never_the_password(smtp_server: SmtpServer) -> None:
    out = send_email(email(smtp_server, username="intruder", password=SMTP_PASSWORD), MSG)
    assert out.status is Status.FAIL
    assert "refused the login of user 'intruder'" in out.summary
    assert SMTP_PASSWORD not in out.summary + json.dumps(dict(out.details))
    assert smtp_server.box.messages == []


def test_incident_email_refuses_to_send_when_starttls_is_required_but_missing(smtp_server: SmtpServer) -> None:
    out = send_email(email(smtp_server, starttls=True, username="ops", password=SMTP_PASSWORD), MSG)
    assert out.status is Status.FAIL
    assert "does not offer STARTTLS" in out.summary
    assert smtp_server.logins == []  # the password never crossed the wire in clear text
    assert smtp_server.box.messages == []


def test_incident_email_upgrades_with_starttls() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = __import__("ssl").create_default_context()
    ca.configure_trust(client_ctx)
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True)
    controller.start()
    try:
        settings = EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            starttls=True,
            sender="ops@aikinklab.com",
            recipients=("oncall@aikinklab.com",),
            timeout_s=5,
        )
        out = send_email(settings, MSG, ssl_context=client_ctx)
    finally:
        controller.stop()
    assert out.status is Status.PASS, out.summary
    assert len(box.messages) == 1


def test_incident_email_to_a_closed_port_fails_fast_and_clearly() -> None:
    settings = EmailSettings(
        smtp_host="127.0.0.1", smtp_port=free_port(), starttls=False, sender="a@b.c", recipients=("x@y.z",), timeout_s=2
    )
    out = send_email(settings, MSG)
    assert out.status is Status.FAIL
    assert "refused" in out.summary


def test_incident_email_not_configured_is_a_warning_naming_the_keys() -> None:
    out = send_email(EmailSettings(), MSG)
    assert out.status is Status.WARN
    assert "alerts.channels.email.smtp_host" in out.summary


HOOK_TOKEN = "T000/B000/XXXXwebhooktokenXXXX"


def hook(httpserver: HTTPServer, name: str = "sms", **kw: Any) -> WebhookSettings:
    base: dict[str, Any] = {"webhook_url": httpserver.url_for(f"/services/{HOOK_TOKEN}"), "timeout_s": 2}
    if name == "sms":
        base.update(recipients=("+15550100",), needs_recipients=True)
    base.update(kw)
    return WebhookSettings(name, **base)


def test_incident_webhook_posts_json_once(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(f"/services/{HOOK_TOKEN}", method="POST").respond_with_data("ok")
    out = post_webhook(hook(httpserver), {"text": "INCIDENT", "severity": "P0"})
    assert out.status is Status.PASS, out.summary
    ((request, _),) = httpserver.log
    assert request.get_json() == {"text": "INCIDENT", "severity": "P0", "recipients": ["+15550100"]}
    assert HOOK_TOKEN not in out.summary


@pytest.mark.parametrize("status", [500, 503, 429])
def test_incident_webhook_error_is_reported_and_never_retried(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request(f"/services/{HOOK_TOKEN}", method="POST").respond_with_data("no", status=status)
    out = post_webhook(hook(httpserver, "chat"), {"text": "x"})
    assert out.status is Status.FAIL
    assert f"HTTP {status}" in out.summary
    assert len(httpserver.log) == 1
    assert HOOK_TOKEN not in out.summary + json.dumps(dict(out.details))


def test_incident_webhook_timeout_is_one_attempt_without_the_url(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("late")

    httpserver.expect_request(f"/services/{HOOK_TOKEN}", method="POST").respond_with_handler(slow)
    out = post_webhook(hook(httpserver, timeout_s=0.2), {"text": "x"})
    assert out.status is Status.FAIL
    assert "did not answer within 0.2 s" in out.summary
    assert "may or may not have been delivered" in out.summary
    assert HOOK_TOKEN not in out.summary and "127.0.0.1" not in out.summary
    time.sleep(0.5)
    assert len(httpserver.log) == 1


def test_incident_sms_webhook_needs_recipients() -> None:
    out = post_webhook(WebhookSettings("sms", webhook_url="https://127.0.0.1/x", needs_recipients=True), {})
    assert out.status is Status.WARN
    assert "alerts.channels.sms.recipients" in out.summary


def test_incident_email_subject_cannot_inject_headers(smtp_server: SmtpServer) -> None:
    out = send_email(email(smtp_server), Message("ALERT\r\nBcc: attacker@example.com", "body"))
    assert out.status is Status.PASS
    (mail,) = smtp_server.box.messages
    assert mail["Bcc"] is None
    assert smtp_server.box.envelopes[0].rcpt_tos == ["oncall@aikinklab.com", "cto@aikinklab.com"]
