"""Incident issues on GitHub through PyGithub: find by marker, create once, comment, relabel, close.

Creating an issue is not idempotent, so this client never lets PyGithub retry a POST (its default
retry does): reads are retried, writes are not. When the answer to a create is lost (a timeout or
a 5xx after the request went out) the issue may exist anyway, so ``create_once`` looks for the
incident's marker among open issues before it tries again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.Issue import Issue

from aikinklab_ops.errors import ApiError, ExternalError, OpsError
from aikinklab_ops.http import USER_AGENT, describe_transport_error

T = TypeVar("T")
SERVICE = "GitHub"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class IssueRef:
    number: int
    url: str
    title: str
    body: str
    state: str
    labels: tuple[str, ...]
    created_at: datetime | None


def _ref(issue: Issue) -> IssueRef:
    created = issue.created_at
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return IssueRef(
        number=issue.number,
        url=issue.html_url,
        title=issue.title,
        body=issue.body or "",
        state=issue.state,
        labels=tuple(label.name for label in issue.labels),
        created_at=created,
    )


def _hint(status: int | None) -> str | None:
    if status == 401:
        return "GITHUB_TOKEN is invalid or expired; pass a valid token"
    if status == 403:
        return "the token may not write issues: give the workflow `permissions: issues: write`"
    if status == 404:
        return "check GITHUB_REPOSITORY (owner/name) and that the token can see that repository"
    if status == 410:
        return "issues are disabled on this repository; enable them or run without GITHUB_TOKEN to keep local files"
    if status == 422:
        return "GitHub refused the data; check labels and assignees in the incident section of ops.yml"
    return "GitHub may be having trouble; see https://www.githubstatus.com and rerun"


def _api_error(err: GithubException, doing: str) -> ApiError:
    data = err.data if isinstance(err.data, Mapping) else {}
    message = str(data.get("message") or err.__class__.__name__)
    return ApiError(
        f"GitHub: {doing} failed: HTTP {err.status}: {message}",
        service=SERVICE,
        status=err.status,
        hint=_hint(err.status),
    )


def _lost_answer(err: BaseException) -> bool:
    """True where the request may have been carried out although no good answer came back."""
    if isinstance(err, GithubException):
        return err.status is None or err.status >= 500
    return isinstance(err, (requests.Timeout, requests.ConnectionError))


class IssueTracker:
    """The incident issues of one repository."""

    def __init__(
        self,
        repository: str,
        *,
        token: str,
        api_url: str = "https://api.github.com",
        timeout_s: float = 15.0,
        read_retries: int = 3,
    ) -> None:
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=max(1, math.ceil(timeout_s)),
            user_agent=USER_AGENT,
            retry=GithubRetry(total=read_retries, allowed_methods=READ_METHODS, backoff_factor=0.5),
            # A run writes a handful of times; PyGithub's default 1 s pause per write buys nothing.
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=100,
            lazy=True,
        )
        self._repo = self._gh.get_repo(repository)
        self._issues: dict[int, Issue] = {}

    def _error(self, err: GithubException | requests.RequestException, doing: str) -> OpsError:
        if isinstance(err, GithubException):
            return _api_error(err, doing)
        return ExternalError(f"GitHub: {doing} failed: {describe_transport_error(err, self.api_url)}", hint=_hint(None))

    def _call(self, doing: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (GithubException, requests.RequestException) as err:
            raise self._error(err, doing) from err

    def _issue(self, number: int) -> Issue:
        if number not in self._issues:
            self._issues[number] = self._call(f"reading issue #{number}", lambda: self._repo.get_issue(number))
        return self._issues[number]

    def find_open(self, marker: str, label: str) -> IssueRef | None:
        """The oldest open issue labelled ``label`` whose body starts with ``marker``.

        Only the first line counts, so a quoted marker further down (someone pasting another
        incident's body) does not make this issue that incident.
        """

        def search() -> IssueRef | None:
            found: list[Issue] = []
            for issue in self._repo.get_issues(state="open", labels=[label]):
                if issue.pull_request is not None:
                    continue
                first = (issue.body or "").lstrip().split("\n", 1)[0].strip()
                if first == marker:
                    found.append(issue)
            if not found:
                return None
            oldest = min(found, key=lambda i: i.number)
            self._issues[oldest.number] = oldest
            return _ref(oldest)

        return self._call(f"searching open issues labelled {label!r}", search)

    def ensure_labels(self, labels: Mapping[str, tuple[str, str]]) -> list[str]:
        """Create the labels that do not exist yet (name -> (colour, description)); return those created."""
        existing = self._call("listing labels", lambda: {label.name.lower() for label in self._repo.get_labels()})
        created = []
        for name, (color, description) in labels.items():
            if name.lower() in existing:
                continue
            try:
                self._repo.create_label(name, color, description)
                created.append(name)
            except GithubException as err:
                if err.status != 422:  # 422: someone created it meanwhile
                    raise _api_error(err, f"creating label {name!r}") from err
            except requests.RequestException as err:
                raise ExternalError(
                    f"GitHub: creating label {name!r} failed: {describe_transport_error(err, self.api_url)}"
                ) from err
        return created

    def create_once(
        self,
        *,
        title: str,
        body: str,
        labels: Sequence[str],
        marker: str,
        search_label: str,
        assignees: Iterable[str] = (),
        attempts: int = 2,
    ) -> tuple[IssueRef, bool]:
        """Create the issue unless it exists; ``(issue, created)``.

        A lost answer is followed by a search for the marker, and only if that finds nothing by
        another attempt, so an outage of GitHub's front end cannot file the same incident twice.
        """
        kwargs: dict[str, Any] = {"title": title, "body": body, "labels": list(labels)}
        people = list(assignees)
        if people:
            kwargs["assignees"] = people
        doing = "creating the incident issue"
        last: GithubException | requests.RequestException | None = None
        for _ in range(max(1, attempts)):
            try:
                issue = self._repo.create_issue(**kwargs)
            except (GithubException, requests.RequestException) as err:
                if not _lost_answer(err):
                    raise self._error(err, doing) from err
                last = err
                existing = self.find_open(marker, search_label)
                if existing is not None:
                    return existing, True
                continue
            self._issues[issue.number] = issue
            return _ref(issue), True
        assert last is not None
        final = self._error(last, doing)
        final.message += " (no issue with the incident's marker exists, so rerunning is safe)"
        raise final from last

    def labels_of(self, number: int) -> tuple[str, ...]:
        """The issue's labels as last read (the search that found it, or a fresh read)."""
        issue = self._issue(number)
        return tuple(label.name for label in issue.labels)

    def comment(self, number: int, body: str) -> str:
        issue = self._issue(number)
        made = self._call(f"commenting on issue #{number}", lambda: issue.create_comment(body))
        return str(made.html_url)

    def update(
        self,
        number: int,
        *,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        title: str | None = None,
        close: bool = False,
    ) -> IssueRef:
        issue = self._issue(number)
        if labels is not None:
            self._call(f"labelling issue #{number}", lambda: issue.set_labels(*labels))
        edit: dict[str, Any] = {}
        if body is not None:
            edit["body"] = body
        if title is not None:
            edit["title"] = title
        if close:
            edit["state"] = "closed"
            edit["state_reason"] = "completed"
        if edit:
            self._call(f"updating issue #{number}", lambda: issue.edit(**edit))
        return _ref(issue)
