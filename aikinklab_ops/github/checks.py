"""A commit's check runs and statuses, read through PyGithub.

The tests gate needs one flat list — every check run (``GET /repos/{o}/{r}/commits/{sha}/check-runs``,
all pages, latest attempt per name) and every status context of the combined status — with each
entry reduced to success, pending or failure. Reducing here keeps GitHub's vocabulary
(``conclusion: timed_out``, ``state: error``) out of the gate.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from github import Auth, Github, GithubException

from aikinklab_ops.config.context import Credentials
from aikinklab_ops.errors import ApiError, ExternalError
from aikinklab_ops.http import describe_transport_error, make_retry

# Check-run conclusions that do not block a deploy.
_OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})


@dataclass(frozen=True)
class CommitCheck:
    name: str
    kind: str  # "check-run" or "status"
    state: str  # "success", "pending" or "failure"
    conclusion: str  # GitHub's own word, for the report
    url: str | None = None


def classify_check_run(status: str | None, conclusion: str | None) -> str:
    if status != "completed":
        return "pending"
    return "success" if conclusion in _OK_CONCLUSIONS else "failure"


def classify_status(state: str | None) -> str:
    if state == "success":
        return "success"
    if state == "pending":
        return "pending"
    return "failure"


class GitHubChecks:
    """Reads a commit's checks; the token goes to PyGithub only, never into messages."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        seconds_between_requests: float | None = 0.25,  # PyGithub's default, against secondary rate limits
    ) -> None:
        if "/" not in repository:
            raise ApiError(
                f"GITHUB_REPOSITORY {repository!r} is not owner/name",
                service="GitHub",
                hint="set GITHUB_REPOSITORY=owner/name",
            )
        self.repository = repository
        self._url = api_url
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=api_url,
            timeout=int(max(1, timeout_s)),
            retry=make_retry(retries=retries),
            per_page=100,
            lazy=True,
            seconds_between_requests=seconds_between_requests,
        )

    @classmethod
    def from_credentials(cls, creds: Credentials, *, timeout_s: float = 30.0) -> GitHubChecks | None:
        if not (creds.github_token and creds.github_repository):
            return None
        return cls(creds.github_token, creds.github_repository, creds.github_api_url, timeout_s=timeout_s)

    def commit_checks(self, sha: str) -> list[CommitCheck]:
        try:
            commit = self._gh.get_repo(self.repository).get_commit(sha)
            out = [
                CommitCheck(
                    name=run.name,
                    kind="check-run",
                    state=classify_check_run(run.status, run.conclusion),
                    conclusion=run.conclusion or run.status or "unknown",
                    url=run.html_url,
                )
                for run in commit.get_check_runs(filter="latest")
            ]
            combined = commit.get_combined_status()
            out += [
                CommitCheck(
                    name=status.context,
                    kind="status",
                    state=classify_status(status.state),
                    conclusion=status.state or "unknown",
                    url=status.target_url,
                )
                for status in combined.statuses
            ]
        except GithubException as err:
            message = err.data.get("message") if isinstance(err.data, dict) else None
            hint = {
                401: "GITHUB_TOKEN is invalid or expired",
                403: "give the token checks:read and statuses:read (permissions: checks: read, statuses: read)",
                404: f"check GITHUB_REPOSITORY ({self.repository}), the SHA, and that the token can read the repo",
            }.get(err.status)
            raise ApiError(
                f"GitHub: reading checks of {self.repository}@{sha[:12]} failed: HTTP {err.status}"
                + (f" {message}" if message else ""),
                service="GitHub",
                status=err.status,
                hint=hint,
            ) from err
        except requests.RequestException as err:  # transport errors, after PyGithub's retries
            why = describe_transport_error(err, self._url)
            raise ExternalError(f"GitHub: reading checks of {self.repository}@{sha[:12]} failed: {why}") from err
        return out
