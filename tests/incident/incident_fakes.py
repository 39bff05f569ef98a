"""Test helpers for incidents: a real SMTP server on 127.0.0.1 and a small fake of GitHub's issues API.

The fake keeps issues, labels and comments in memory and answers with bodies shaped like
GitHub's documented REST responses, so PyGithub parses them as it would the real thing.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import requests
import responses
from aiosmtpd.smtp import AuthResult, LoginPassword

API = "https://api.github.com"
REPO = "aikinklab/aikinklab"
TOKEN = "ghp_faketoken1234567890abcdefSECRET"
SMTP_PASSWORD = "smtp-pass-Very-Secret-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    box: Mailbox
    logins: list[tuple[str, str]]


def _authenticator(logins: list[tuple[str, str]]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            logins.append((user, password))
            return AuthResult(success=user == "ops" and password == SMTP_PASSWORD, handled=False)
        return AuthResult(success=False, handled=False)

    return check


class FakeGitHub:
    """Issues, labels and comments of one repository, served through the ``responses`` mock."""

    def __init__(self, rsps: responses.RequestsMock, repo: str = REPO) -> None:
        self.repo = repo
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_next: dict[tuple[str, str], list[int]] = {}  # (method, kind) -> statuses to answer first
        self.lose_create_answer = 0  # create the issue, then answer 502 this many times
        self.time_out_create = 0  # create the issue, then let the answer time out this many times
        self.auth_headers: list[str] = []
        # PyGithub spells the default port out (https://api.github.com:443/...).
        base = re.escape(API) + r"(?::443)?" + re.escape(f"/repos/{repo}")
        rsps.add_callback(responses.GET, re.compile(base + r"/labels(\?.*)?$"), self._list_labels)
        rsps.add_callback(responses.POST, re.compile(base + r"/labels$"), self._create_label)
        rsps.add_callback(responses.GET, re.compile(base + r"/issues(\?.*)?$"), self._list_issues)
        rsps.add_callback(responses.POST, re.compile(base + r"/issues$"), self._create_issue)
        rsps.add_callback(responses.GET, re.compile(base + r"/issues/(\d+)$"), self._get_issue)
        rsps.add_callback(responses.PATCH, re.compile(base + r"/issues/(\d+)$"), self._edit_issue)
        rsps.add_callback(responses.PUT, re.compile(base + r"/issues/(\d+)/labels$"), self._set_labels)
        rsps.add_callback(responses.POST, re.compile(base + r"/issues/(\d+)/comments$"), self._comment)

    # -- helpers -------------------------------------------------------------------------------
    def _record(self, request: Any, kind: str) -> tuple[int, dict[str, str], str] | None:
        self.calls.append((request.method, kind))
        self.auth_headers.append(request.headers.get("Authorization", ""))
        queue = self.fail_next.get((request.method, kind))
        if queue:
            status = queue.pop(0)
            return status, {}, json.dumps({"message": "Server Error", "documentation_url": "https://docs.github.com"})
        return None

    def _label(self, name: str) -> dict[str, Any]:
        label = self.labels.get(name) or {"name": name, "color": "ededed", "description": None}
        return {
            "id": abs(hash(name)) % 10**6,
            "node_id": "LA_x",
            "url": f"{API}/repos/{self.repo}/labels/{name}",
            "name": name,
            "color": label["color"],
            "default": False,
            "description": label["description"],
        }

    def issue_json(self, number: int) -> dict[str, Any]:
        i = self.issues[number]
        return {
            "id": 1000 + number,
            "node_id": f"I_{number}",
            "url": f"{API}/repos/{self.repo}/issues/{number}",
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
            "number": number,
            "state": i["state"],
            "state_reason": i.get("state_reason"),
            "title": i["title"],
            "body": i["body"],
            "user": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
            "labels": [self._label(n) for n in i["labels"]],
            "assignees": [{"login": a, "id": 1} for a in i.get("assignees", [])],
            "comments": len(self.comments.get(number, [])),
            "created_at": i["created_at"],
            "updated_at": i["created_at"],
            "closed_at": None if i["state"] == "open" else i["created_at"],
            "locked": False,
        }

    def add_issue(self, title: str, body: str, labels: list[str], created_at: str = "2026-01-01T10:00:00Z") -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "title": title,
            "body": body,
            "labels": labels,
            "state": "open",
            "created_at": created_at,
        }
        return number

    def count(self, method: str, kind: str) -> int:
        return sum(1 for c in self.calls if c == (method, kind))

    # -- endpoints -----------------------------------------------------------------------------
    def _list_labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "labels")
        if failed:
            return failed
        return 200, {}, json.dumps([self._label(n) for n in self.labels])

    def _create_label(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "labels")
        if failed:
            return failed
        data = json.loads(request.body)
        self.labels[data["name"]] = {"color": data["color"], "description": data.get("description")}
        return 201, {}, json.dumps(self._label(data["name"]))

    def _list_issues(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "issues")
        if failed:
            return failed
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(request.url).query)
        state = q.get("state", ["open"])[0]
        wanted = set(",".join(q.get("labels", [""])).split(",")) - {""}
        out = [
            self.issue_json(n)
            for n, i in sorted(self.issues.items(), reverse=True)
            if (state == "all" or i["state"] == state) and wanted <= set(i["labels"])
        ]
        return 200, {}, json.dumps(out)

    def _create_issue(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "issues")
        if failed:
            return failed
        data = json.loads(request.body)
        for name in data.get("labels", []):
            self.labels.setdefault(name, {"color": "ededed", "description": None})
        number = self.add_issue(
            data["title"], data.get("body", ""), list(data.get("labels", [])), "2026-12-03T09:00:00Z"
        )
        self.issues[number]["assignees"] = data.get("assignees", [])
        if self.lose_create_answer:
            self.lose_create_answer -= 1
            return 502, {}, json.dumps({"message": "Bad Gateway"})
        if self.time_out_create:
            self.time_out_create -= 1
            raise requests.exceptions.ReadTimeout("read timed out")
        return 201, {}, json.dumps(self.issue_json(number))

    def _get_issue(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "issue")
        if failed:
            return failed
        number = int(request.url.rsplit("/", 1)[1])
        if number not in self.issues:
            return 404, {}, json.dumps({"message": "Not Found"})
        return 200, {}, json.dumps(self.issue_json(number))

    def _edit_issue(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "issue")
        if failed:
            return failed
        number = int(request.url.rsplit("/", 1)[1])
        data = json.loads(request.body)
        for key in ("title", "body", "state", "state_reason"):
            if key in data:
                self.issues[number][key] = data[key]
        return 200, {}, json.dumps(self.issue_json(number))

    def _set_labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "issue-labels")
        if failed:
            return failed
        number = int(request.url.rsplit("/", 2)[1])
        data = json.loads(request.body)
        names = data["labels"] if isinstance(data, dict) else data
        self.issues[number]["labels"] = list(names)
        return 200, {}, json.dumps([self._label(n) for n in names])

    def _comment(self, request: Any) -> tuple[int, dict[str, str], str]:
        failed = self._record(request, "comments")
        if failed:
            return failed
        number = int(request.url.rsplit("/", 2)[1])
        body = json.loads(request.body)["body"]
        self.comments.setdefault(number, []).append(body)
        cid = 5000 + sum(len(v) for v in self.comments.values())
        return (
            201,
            {},
            json.dumps(
                {
                    "id": cid,
                    "node_id": f"IC_{cid}",
                    "body": body,
                    "url": f"{API}/repos/{self.repo}/issues/comments/{cid}",
                    "html_url": f"https://github.com/{self.repo}/issues/{number}#issuecomment-{cid}",
                    "user": {"login": "github-actions[bot]", "id": 41898282},
                    "created_at": "2026-12-03T09:30:00Z",
                    "updated_at": "2026-12-03T09:30:00Z",
                }
            ),
        )
