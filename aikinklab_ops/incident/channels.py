"""Alert channels: email over SMTP, SMS and chat through webhooks.

Each send is attempted exactly once. An SMTP ``DATA`` that timed out, or a webhook POST whose
answer was lost, may well have been delivered; sending again would page the on-call twice, and
a second page for the same alert teaches people to ignore pages. The outcome says what happened
and the next scheduled update sends the news again anyway.

Nothing here puts a secret into an outcome: webhook URLs carry tokens, so they are never shown,
not even redacted; SMTP errors name the server and the user, never the password.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import requests

from aikinklab_ops.http import make_session
from aikinklab_ops.incident.messages import Message
from aikinklab_ops.incident.settings import EmailSettings, WebhookSettings
from aikinklab_ops.report import Status
from aikinklab_ops.secrets import Redactor


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    status: Status
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


def not_configured(channel: str, missing: list[str]) -> ChannelOutcome:
    return ChannelOutcome(
        channel,
        Status.WARN,
        f"not configured, nothing sent: set {', '.join(missing)} in ops.yml",
        {"missing": missing},
    )


def _smtp_reason(err: BaseException, settings: EmailSettings) -> str:
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return f"{server} refused the login of user {settings.username!r} (check the SMTP username and password)"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return f"{server} refused every recipient: {', '.join(sorted(err.recipients))}"
    if isinstance(err, smtplib.SMTPSenderRefused):
        return f"{server} refused the sender {settings.sender!r}: {err.smtp_code}"
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return f"{server}: {err}"
    if isinstance(err, smtplib.SMTPResponseException):
        text = err.smtp_error.decode("utf-8", "replace") if isinstance(err.smtp_error, bytes) else str(err.smtp_error)
        return f"{server} answered {err.smtp_code}: {text}"
    # smtplib turns a read timeout into SMTPServerDisconnected("Connection unexpectedly closed: timed out").
    timed_out = isinstance(err, smtplib.SMTPServerDisconnected) and str(err).endswith("timed out")
    if timed_out or isinstance(err, (socket.timeout, TimeoutError)):
        return f"{server} did not answer within {settings.timeout_s:g} s (the email may or may not have been sent)"
    if isinstance(err, ssl.SSLError):
        return f"TLS with {server} failed: {err.reason or err}"
    if isinstance(err, ConnectionRefusedError):
        return f"connection to {server} refused (is smtp_host/smtp_port right?)"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve {settings.smtp_host!r}: {err.strerror or err}"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return f"{server} closed the connection: {err}"
    return f"sending through {server} failed: {type(err).__name__}: {err}"


def send_email(
    settings: EmailSettings,
    message: Message,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> ChannelOutcome:
    """Send one alert email; never raises, never retries.

    Port 465 means implicit TLS (SMTPS); otherwise ``starttls`` decides, and a server that does
    not offer STARTTLS when asked to is refused rather than sent a password in clear text.
    """
    missing = settings.missing()
    if missing:
        return not_configured("email", missing)
    assert settings.smtp_host
    sender = settings.sender or "aikinklab-ops@localhost"
    mail = EmailMessage()
    mail["Subject"] = " ".join(message.subject.split())  # a header is one line, whatever the title held
    mail["From"] = sender
    mail["To"] = ", ".join(settings.recipients)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    mail.set_content(message.text)
    context = ssl_context or ssl.create_default_context()
    redact = Redactor([settings.password or ""])
    details: dict[str, Any] = {
        "server": f"{settings.smtp_host}:{settings.smtp_port}",
        "recipients": list(settings.recipients),
    }
    try:
        smtp: smtplib.SMTP
        if settings.smtp_port == 465:
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s)
        with smtp:
            smtp.ehlo()
            if settings.smtp_port != 465 and settings.starttls:
                if not smtp.has_extn("starttls"):
                    return ChannelOutcome(
                        "email",
                        Status.FAIL,
                        f"{settings.smtp_host}:{settings.smtp_port} does not offer STARTTLS, nothing sent "
                        "(set alerts.channels.email.starttls: false only for a trusted local relay)",
                        details,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as err:
        return ChannelOutcome("email", Status.FAIL, redact(_smtp_reason(err, settings)), details)
    delivered = [r for r in settings.recipients if r not in refused]
    details["delivered_to"] = delivered
    if refused:
        details["refused"] = sorted(refused)
        return ChannelOutcome(
            "email", Status.WARN, f"sent to {len(delivered)} of {len(settings.recipients)} recipients", details
        )
    return ChannelOutcome("email", Status.PASS, f"sent to {len(delivered)} recipient(s)", details)


def _webhook_reason(err: requests.RequestException, name: str, timeout_s: float) -> str:
    # The URL carries the token: describe the failure without it and without the library's text.
    if isinstance(err, requests.exceptions.SSLError):
        return f"the {name} webhook's TLS handshake failed"
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return f"connecting to the {name} webhook timed out after {timeout_s:g} s"
    if isinstance(err, requests.exceptions.ReadTimeout):
        return (
            f"the {name} webhook did not answer within {timeout_s:g} s (the alert may or may not have been delivered)"
        )
    if isinstance(err, requests.exceptions.ConnectionError):
        return f"cannot connect to the {name} webhook (refused, unresolvable host, or network down)"
    return f"the {name} webhook request failed ({type(err).__name__})"


def post_webhook(
    settings: WebhookSettings,
    payload: Mapping[str, Any],
    *,
    session: requests.Session | None = None,
) -> ChannelOutcome:
    """POST ``payload`` as JSON once; a 2xx is delivered, anything else is reported, never retried."""
    name = settings.name
    missing = settings.missing()
    if missing:
        return not_configured(name, missing)
    assert settings.webhook_url
    http = session or make_session(timeout=settings.timeout_s, retries=0)
    body = dict(payload)
    if settings.recipients:
        body["recipients"] = list(settings.recipients)
    try:
        # stream=True: only the status line matters. A body sent a byte at a time would reset the
        # read timeout on every byte and hold the run (and the next alert) for as long as it likes.
        response = http.post(
            settings.webhook_url, json=body, timeout=settings.timeout_s, allow_redirects=False, stream=True
        )
        response.close()
    except requests.RequestException as err:
        return ChannelOutcome(name, Status.FAIL, _webhook_reason(err, name, settings.timeout_s))
    finally:
        if session is None:
            http.close()
    details: dict[str, Any] = {"http_status": response.status_code}
    if settings.recipients:
        details["recipients"] = list(settings.recipients)
    if 200 <= response.status_code < 300:
        return ChannelOutcome(
            name, Status.PASS, f"delivered to the {name} webhook (HTTP {response.status_code})", details
        )
    hint = {
        401: "the webhook's token was refused; rotate the URL",
        403: "the webhook's token was refused; rotate the URL",
        404: "the webhook URL is wrong or was revoked",
        410: "the webhook was revoked; create a new one",
        429: "the webhook is rate limiting; the next update will try again",
    }.get(response.status_code, "check the receiving service")
    return ChannelOutcome(
        name, Status.FAIL, f"the {name} webhook answered HTTP {response.status_code}: {hint}", details
    )
