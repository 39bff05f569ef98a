"""GitHub Deployments (with statuses) and the one preview comment on a pull request, via PyGithub.

A deploy records itself on GitHub so the repository's Environments page and the pull request show
where the build went: a Deployment for the commit, a status ``in_progress`` when it starts and
``success``/``failure`` (with ``environment_url``) when it ends. On a pull request one comment
carries the preview URL; it is found again by a hidden marker and edited, never repeated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from aikinklab_ops.errors import ExternalError, UsageError
from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.secrets import redact_url

PREVIEW_MARKER = "<!-- aikinklab-ops:preview-deployment -->"
_PR_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")
T = TypeVar("T")


def read_event(event_path: str | None) -> dict[str, Any]:
    """The Actions event payload (``GITHUB_EVENT_PATH``); empty when there is none or it is unreadable,
    since every field taken from it is a best-effort default."""
    if not event_path:
        return {}
    try:
        data = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pull_request_number(event_path: str | None, ref: str | None) -> int | None:
    """The pull request this run is for: from the event payload, else from ``refs/pull/N/merge``."""
    event = read_event(event_path)
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return int(pr["number"])
    if isinstance(event.get("number"), int) and pr is not None:
        return int(event["number"])
    m = _PR_REF.match(ref or "")
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class GitHubDeployment:
    id: int
    environment: str


class GitHubDeployments:
    """A thin, typed wrapper over the PyGithub calls a deploy makes; errors become ``ExternalError``."""

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        api_url: str = "https://api.github.com",
        timeout: int = 15,
        retries: int = 3,
    ) -> None:
        from github import Auth, Github

        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # PyGithub would fail on it with an AssertionError or AttributeError.
            raise UsageError(
                f"GITHUB_API_URL {redact_url(api_url)!r} is not an http(s) URL",
                hint="unset GITHUB_API_URL for github.com, or set it to the API root of your GitHub Enterprise "
                "server (e.g. https://ghe.example.com/api/v3)",
            )
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=timeout,
            retry=retries,
            # A deploy makes a handful of calls: PyGithub's pacing between them would only add delay.
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._repo = self._gh.get_repo(repository)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from github import GithubException

        try:
            return fn()
        except GithubException as err:
            message = ""
            if isinstance(err.data, dict):
                message = str(err.data.get("message") or "")
            hint = "check GITHUB_TOKEN's permissions (deployments: write, pull-requests: write)"
            if err.status == 404:
                hint = f"check GITHUB_REPOSITORY ({self.repository}) and that the token can see it"
            raise ExternalError(
                f"GitHub: {what} failed (HTTP {err.status}){': ' + message if message else ''}", hint=hint
            ) from err
        except requests.RequestException as err:
            raise ExternalError(
                f"GitHub: {what} failed: {describe_transport_error(err, self.api_url)}",
                hint="check the network and GITHUB_API_URL",
            ) from err

    def start(
        self,
        *,
        ref: str,
        environment: str,
        production: bool,
        description: str,
        log_url: str | None = None,
    ) -> GitHubDeployment:
        """Create the Deployment for ``ref`` and mark it ``in_progress``."""
        dep = self._call(
            "create deployment",
            lambda: self._repo.create_deployment(
                ref,
                task="deploy",
                auto_merge=False,
                required_contexts=[],
                environment=environment,
                description=description[:140],
                transient_environment=not production and environment == "preview",
                production_environment=production,
            ),
        )
        handle = GitHubDeployment(int(dep.id), environment)
        kwargs: dict[str, Any] = {"description": description[:140], "environment": environment}
        if log_url:
            kwargs["target_url"] = log_url
        self._call("deployment status in_progress", lambda: dep.create_status("in_progress", **kwargs))
        return handle

    def finish(
        self,
        handle: GitHubDeployment,
        *,
        ok: bool,
        description: str,
        environment_url: str | None = None,
        log_url: str | None = None,
    ) -> None:
        """Mark the Deployment ``success`` (older ones of the environment go inactive) or ``failure``."""
        dep = self._call("get deployment", lambda: self._repo.get_deployment(handle.id))
        kwargs: dict[str, Any] = {"description": description[:140], "environment": handle.environment}
        if environment_url:
            kwargs["environment_url"] = environment_url
        if log_url:
            kwargs["target_url"] = log_url
        if ok:
            kwargs["auto_inactive"] = True
        state = "success" if ok else "failure"
        self._call(f"deployment status {state}", lambda: dep.create_status(state, **kwargs))

    def upsert_pr_comment(self, number: int, body: str) -> tuple[int, bool]:
        """Create or edit the one comment that carries ``PREVIEW_MARKER``; returns (comment id, created)."""
        marker = PREVIEW_MARKER
        text = body if marker in body else f"{marker}\n{body}"
        issue = self._call(f"get pull request #{number}", lambda: self._repo.get_issue(number))
        comments = self._call("list comments", lambda: list(issue.get_comments()))
        found = next((c for c in comments if marker in (c.body or "")), None)
        if found is not None:
            if found.body != text:
                self._call("edit preview comment", lambda: found.edit(text))
            return int(found.id), False
        created = self._call("create preview comment", lambda: issue.create_comment(text))
        return int(created.id), True


def preview_comment(*, url: str, deployment_id: str, inspector_url: str | None, sha: str | None, ok: bool) -> str:
    """The preview comment's markdown."""
    head = "✅ Preview deployed" if ok else "❌ Preview deployment failed"
    rows = [f"| URL | {url} |", f"| Deployment | `{deployment_id}` |"]
    if inspector_url:
        rows.append(f"| Inspect | {inspector_url} |")
    if sha:
        rows.append(f"| Commit | `{sha[:12]}` |")
    return "\n".join([PREVIEW_MARKER, f"### {head}", "", "| | |", "|---|---|", *rows, ""])
