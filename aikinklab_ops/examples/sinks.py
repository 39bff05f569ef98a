"""Loopback stand-ins for the alert channels, so the demo's incident really sends its email and SMS.

Just enough SMTP (RFC 5321's HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and a JSON webhook to
receive what the incident code sends over real sockets, and keep it for the demo to show.
"""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Received:
    emails: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _SMTPHandler(socketserver.StreamRequestHandler):
    server: _SMTPServer
    timeout = 10

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 localhost aikinklab-ops demo mail sink")
        sender, rcpts = "", list[str]()
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            verb = raw.decode("utf-8", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-localhost")
                self._say("250 8BITMIME")
            elif verb in ("HELO", "NOOP", "RSET"):
                if verb == "RSET":
                    sender, rcpts = "", []
                self._say("250 OK")
            elif verb == "MAIL":
                sender = raw.decode().split(":", 1)[-1].strip()
                self._say("250 OK")
            elif verb == "RCPT":
                rcpts.append(raw.decode().split(":", 1)[-1].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                lines = []
                while (line := self.rfile.readline(65536)) not in (b".\r\n", b".\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                message = b"".join(lines).decode("utf-8", "replace")
                subject = str(email.message_from_string(message, policy=email.policy.default).get("Subject", ""))
                with self.server.received.lock:
                    self.server.received.emails.append({"from": sender, "to": rcpts, "subject": subject})
                self._say("250 OK: queued")
                sender, rcpts = "", []
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    received: Received


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        with self.server.received.lock:
            self.server.received.webhooks.append({"path": self.path, "body": body})
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    received: Received


class AlertSinks:
    """``with AlertSinks() as sinks:`` — an SMTP port and a webhook URL on 127.0.0.1."""

    def __init__(self) -> None:
        self.received = Received()
        self._smtp = _SMTPServer(("127.0.0.1", 0), _SMTPHandler)
        self._smtp.received = self.received
        self._hook = _WebhookServer(("127.0.0.1", 0), _WebhookHandler)
        self._hook.received = self.received
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in (self._smtp, self._hook)
        ]

    @property
    def smtp_port(self) -> int:
        return int(self._smtp.server_address[1])

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self._hook.server_address[1]}/hooks"

    def __enter__(self) -> AlertSinks:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for s in (self._smtp, self._hook):
            s.shutdown()
            s.server_close()
