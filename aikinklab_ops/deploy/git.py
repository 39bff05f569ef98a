"""Git metadata sent with a deployment (``gitMetadata``), from the event and the work tree."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aikinklab_ops.github.deployments import read_event


@dataclass(frozen=True)
class GitMetadata:
    commit_sha: str | None = None
    commit_ref: str | None = None
    commit_message: str | None = None
    commit_author_name: str | None = None
    remote_url: str | None = None
    dirty: bool | None = None

    def to_api(self) -> dict[str, Any]:
        """The contract's ``gitMetadata`` object, with only the fields we know."""
        out: dict[str, Any] = {
            "commitSha": self.commit_sha,
            "commitRef": self.commit_ref,
            "commitMessage": self.commit_message[:1024] if self.commit_message else None,
            "commitAuthorName": self.commit_author_name,
            "remoteUrl": self.remote_url,
            "dirty": self.dirty,
        }
        return {k: v for k, v in out.items() if v is not None}


def branch_from_ref(ref: str | None) -> str | None:
    if not ref:
        return None
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _git(path: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def gather_git_metadata(
    path: Path,
    *,
    sha: str | None = None,
    ref: str | None = None,
    event_path: str | None = None,
    repository: str | None = None,
    server_url: str = "https://github.com",
) -> GitMetadata:
    """Best effort: the event payload first, then ``git`` in ``path``; a field nobody knows is left out."""
    event = read_event(event_path)
    message = author = None
    head = event.get("head_commit") if isinstance(event.get("head_commit"), dict) else None
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    if head:
        message = head.get("message")
        author = (head.get("author") or {}).get("name")
    elif pr:
        message = pr.get("title")
        author = (pr.get("user") or {}).get("login")
        sha = sha or (pr.get("head") or {}).get("sha")
    log = _git(path, "log", "-1", "--format=%H%x00%an%x00%s")
    if log and "\x00" in log:
        git_sha, git_author, git_subject = [*log.strip().split("\x00"), "", ""][:3]
        sha = sha or git_sha or None
        author = author or git_author or None
        message = message or git_subject or None
    status = _git(path, "status", "--porcelain")
    dirty = None if status is None else bool(status.strip())
    if not ref:
        ref = (_git(path, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    remote = f"{server_url.rstrip('/')}/{repository}" if repository else None
    return GitMetadata(
        commit_sha=sha,
        commit_ref=branch_from_ref(ref),
        commit_message=message,
        commit_author_name=author,
        remote_url=remote,
        dirty=dirty,
    )
