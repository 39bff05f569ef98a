"""What the sandbox remembers: projects, deployments, aliases, and the JSON views Vercel gives of them.

Kept apart from the HTTP handling so the shapes can be read (and compared with the contract) in
one place. Field names follow Vercel's; the ``sandboxUrl`` extra tells a client where on loopback
the deployment is really served, since its ``*.vercel.app`` hostname resolves nowhere.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE62 = string.ascii_letters + string.digits
LOWER36 = string.ascii_lowercase + string.digits
TERMINAL = frozenset({"READY", "ERROR", "CANCELED", "BLOCKED"})
IN_PROGRESS = frozenset({"QUEUED", "INITIALIZING", "BUILDING"})
_SLUG = re.compile(r"[^a-z0-9]+")


def random_id(prefix: str, length: int = 28, alphabet: str = BASE62) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "x"


@dataclass
class EnvVar:
    key: str
    target: tuple[str, ...] = ("production", "preview", "development")
    type: str = "encrypted"
    id: str = field(default_factory=lambda: random_id("", 16))
    git_branch: str | None = None
    custom_environment_ids: tuple[str, ...] = ()

    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "key": self.key, "target": list(self.target), "type": self.type}
        if self.git_branch:
            data["gitBranch"] = self.git_branch
        if self.custom_environment_ids:
            data["customEnvironmentIds"] = list(self.custom_environment_ids)
        return data


@dataclass
class AliasJob:
    """A queued promote: pending, then in-progress, then its outcome, ``delay`` seconds apart."""

    to_id: str
    from_id: str | None
    outcome: str
    started: float
    delay: float


@dataclass
class Project:
    id: str
    name: str
    created_ms: int
    production_aliases: list[str]
    auto_assign: bool = True
    env: list[EnvVar] = field(default_factory=list)
    environment_aliases: dict[str, list[str]] = field(default_factory=dict)
    custom_environments: dict[str, str] = field(default_factory=dict)  # slug -> id
    production_id: str | None = None
    last_alias_request: dict[str, Any] | None = None
    last_rollback_target: dict[str, Any] | None = None
    job: AliasJob | None = None

    @property
    def rolled_back(self) -> bool:
        """After a rollback, Vercel stops moving production domains to new builds until a promote."""
        return self.last_rollback_target is not None


@dataclass
class Deployment:
    id: str
    url: str
    name: str
    project_id: str
    created_ms: int
    target: str | None  # "production", "staging" or None (preview)
    meta: dict[str, str]
    files: dict[str, str]  # path -> sha
    outcome: str  # READY, ERROR, BLOCKED or STUCK
    queue_s: float
    build_s: float
    build_id: str
    creator: dict[str, str]
    git_metadata: dict[str, Any] | None = None
    custom_environment: dict[str, str] | None = None
    project_settings: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    pending_code: str | None = None  # what a faulted build will end with
    pending_error: str | None = None
    state: str = "QUEUED"
    substate: str | None = None
    building_ms: int | None = None
    ready_ms: int | None = None
    alias: list[str] = field(default_factory=list)
    alias_assigned: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    folder: Path | None = None
    sandbox_url: str | None = None
    source: str = "cli"

    @property
    def branch(self) -> str | None:
        ref = (self.git_metadata or {}).get("commitRef") or self.meta.get("githubCommitRef")
        return str(ref) if ref else None

    @property
    def sha(self) -> str | None:
        sha = (self.git_metadata or {}).get("commitSha") or self.meta.get("githubCommitSha")
        return str(sha) if sha else None

    @property
    def rollback_candidate(self) -> bool:
        return self.target == "production" and self.state == "READY" and self.substate == "PROMOTED"

    def inspector_url(self, team_slug: str) -> str:
        return f"https://vercel.com/{team_slug}/{self.name}/{self.id.removeprefix('dpl_')}"

    def view(self, team_slug: str) -> dict[str, Any]:
        """The owner's view, as create, get and cancel answer it."""
        data: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "projectId": self.project_id,
            "meta": dict(self.meta),
            "createdAt": self.created_ms,
            "readyState": self.state,
            "target": self.target,
            "alias": list(self.alias),
            "aliasAssigned": self.alias_assigned,
            "aliasError": None,
            "inspectorUrl": self.inspector_url(team_slug),
            "creator": dict(self.creator),
            "type": "LAMBDAS",
            "source": self.source,
            "version": 2,
            "sandboxUrl": self.sandbox_url,
        }
        if self.building_ms is not None:
            data["buildingAt"] = self.building_ms
        if self.ready_ms is not None:
            data["ready"] = self.ready_ms
        if self.substate is not None:
            data["readySubstate"] = self.substate
        if self.error_code is not None:
            data["errorCode"] = self.error_code
        if self.error_message is not None:
            data["errorMessage"] = self.error_message
        if self.git_metadata is not None:
            data["gitMetadata"] = dict(self.git_metadata)
        if self.custom_environment is not None:
            data["customEnvironment"] = dict(self.custom_environment)
        return data

    def list_item(self, team_slug: str) -> dict[str, Any]:
        """One entry of ``GET /v7/deployments``: ``uid`` and ``state``, not ``id``."""
        data: dict[str, Any] = {
            "uid": self.id,
            "name": self.name,
            "url": self.url,
            "projectId": self.project_id,
            "created": self.created_ms,
            "createdAt": self.created_ms,
            "state": self.state,
            "readyState": self.state,
            "type": "LAMBDAS",
            "creator": dict(self.creator),
            "inspectorUrl": self.inspector_url(team_slug),
            "meta": dict(self.meta),
            "target": self.target,
            "aliasAssigned": self.alias_assigned,
            "aliasError": None,
            "isRollbackCandidate": self.rollback_candidate,
            "source": self.source,
            "sandboxUrl": self.sandbox_url,
        }
        if self.building_ms is not None:
            data["buildingAt"] = self.building_ms
        if self.ready_ms is not None:
            data["ready"] = self.ready_ms
        if self.substate is not None:
            data["readySubstate"] = self.substate
        if self.error_code is not None:
            data["errorCode"] = self.error_code
        if self.error_message is not None:
            data["errorMessage"] = self.error_message
        return data

    def summary(self) -> dict[str, Any]:
        """The short form a project shows in ``latestDeployments`` and ``targets``."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "createdAt": self.created_ms,
            "readyState": self.state,
            "type": "LAMBDAS",
            "target": self.target,
            "alias": list(self.alias),
            "aliasAssigned": self.alias_assigned,
            "aliasError": None,
            "meta": dict(self.meta),
        }
        if self.substate is not None:
            data["readySubstate"] = self.substate
        return data


@dataclass
class Alias:
    alias: str
    uid: str
    deployment_id: str
    project_id: str
    created: str  # ISO-8601


def project_view(project: Project, deployments: list[Deployment], aliases: dict[str, str | None]) -> dict[str, Any]:
    """``GET /v9/projects/{id}``; ``aliases`` maps each production alias to its loopback URL."""
    own = sorted((d for d in deployments if d.project_id == project.id), key=lambda d: -d.created_ms)
    by_id = {d.id: d for d in own}
    targets: dict[str, Any] = {}
    if project.production_id and project.production_id in by_id:
        targets["production"] = by_id[project.production_id].summary()
    return {
        "id": project.id,
        "name": project.name,
        "createdAt": project.created_ms,
        "autoAssignCustomDomains": project.auto_assign,
        "lastAliasRequest": dict(project.last_alias_request) if project.last_alias_request else None,
        "lastRollbackTarget": dict(project.last_rollback_target) if project.last_rollback_target else None,
        "latestDeployments": [d.summary() for d in own[:10]],
        "targets": targets,
        "alias": [{"domain": a, "target": "PRODUCTION"} for a in project.production_aliases],
        "sandboxAliases": aliases,
    }
