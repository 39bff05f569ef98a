"""The sandbox's API: Vercel's answers to the operations of the contract, over plain data.

``SandboxApp.handle(ApiRequest) -> ApiResponse`` holds every rule (auth, team, faults, state,
validation) and knows nothing of sockets, so the behaviour can be tested without a server and
the HTTP layer stays a thin adapter. A deployment's state is a function of the clock (queued for
``queue_delay``, building for ``build_delay``, then its outcome), advanced on every request and by
the server's ticker, so a client sees the same progression whether it polls fast or slow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import posixpath
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlencode

from aikinklab_ops.sandbox import persist
from aikinklab_ops.sandbox.contract import Contract, error_message
from aikinklab_ops.sandbox.faults import Fault, Faults
from aikinklab_ops.sandbox.model import (
    BASE62,
    IN_PROGRESS,
    LOWER36,
    TERMINAL,
    Alias,
    AliasJob,
    Deployment,
    EnvVar,
    Project,
    project_view,
    random_id,
    slug,
)
from aikinklab_ops.secrets import MASK

_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # as sent, percent-encoding kept; route parameters are decoded after matching
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> ApiRequest:
        path, _, qs = target.partition("?")
        items = headers.items() if isinstance(headers, Mapping) else headers
        return cls(
            method.upper(),
            path or "/",  # still percent-encoded: an encoded "/" inside an id must not split the route
            tuple(parse_qsl(qs, keep_blank_values=True)),
            {k.lower(): v for k, v in items},
            body,
        )

    def arg(self, name: str) -> str | None:
        for key, value in reversed(self.query):
            if key == name:
                return value
        return None

    def args(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    # A streamed body (``follow=1`` events): chunks written as they come, then the connection closes.
    stream: Iterator[bytes] | None = None

    @classmethod
    def of(cls, status: int, data: Any, headers: Sequence[tuple[str, str]] = ()) -> ApiResponse:
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls(status, body, (("Content-Type", "application/json; charset=utf-8"), *headers))

    @classmethod
    def empty(cls, status: int) -> ApiResponse:
        return cls(status, b"", ())

    @classmethod
    def error(cls, status: int, code: str, message: str, **extra: Any) -> ApiResponse:
        return cls.of(status, {"error": {"code": code, "message": message, **extra}})

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Exchange:
    """One request the sandbox answered and its answer, with the bearer token masked."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    @property
    def content_type(self) -> str | None:
        for k, v in self.response_headers:
            if k.lower() == "content-type":
                return v
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": [list(p) for p in self.query],
            "headers": dict(self.headers),
            "body": _text_or_b64(self.body),
            "status": self.status,
            "responseHeaders": [list(h) for h in self.response_headers],
            "responseBody": _text_or_b64(self.response_body),
        }


def _text_or_b64(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


class Serving(Protocol):
    """Where READY deployments and aliases get served; the HTTP layer supplies it."""

    def serve_deployment(self, deployment_id: str, folder: Path) -> str: ...

    def serve_alias(self, alias: str, root: Callable[[], Path | None]) -> str: ...


@dataclass(frozen=True)
class SandboxSettings:
    build_delay: float = 2.0
    queue_delay: float | None = None  # default: half the build delay
    team_id: str = "team_aikinklabsandbox"
    team_slug: str = "aikinklab-sandbox"
    enforce_team: bool = False
    token: str | None = None  # None: any bearer token is accepted
    auto_create_projects: bool = True
    project_name: str = "aikinklab"
    project_id: str = "prj_aikinklabsandbox"
    production_aliases: tuple[str, ...] = ("aikinklab.vercel.app", "www.aikinklab.com")
    environment_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    auto_assign_custom_domains: bool = True
    follow_timeout: float = 900.0  # how long ``follow=1`` streams at most
    persist: bool = True  # keep projects, deployments and aliases in <state-dir>/state.json
    env_vars: tuple[EnvVar, ...] = (
        EnvVar("NEXT_PUBLIC_SITE_URL", ("production", "preview", "development"), "plain"),
        EnvVar("DATABASE_URL", ("production", "preview"), "encrypted"),
        EnvVar("SENTRY_AUTH_TOKEN", ("production",), "sensitive"),
    )

    @property
    def queue_s(self) -> float:
        return self.build_delay / 2 if self.queue_delay is None else self.queue_delay


Handler = Callable[[ApiRequest, dict[str, str]], ApiResponse]


class SandboxApp:
    """All of the sandbox's state and rules; every public method is thread-safe."""

    def __init__(
        self,
        state_dir: Path,
        settings: SandboxSettings | None = None,
        *,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        serving: Serving | None = None,
        contract: Contract | None = None,
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.state_dir = Path(state_dir)
        self.files_dir = self.state_dir / "files"
        self.builds_dir = self.state_dir / "deployments"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.builds_dir.mkdir(parents=True, exist_ok=True)
        self.faults = faults or Faults()
        self.clock = clock
        self.serving = serving
        self.contract = contract or Contract.load()
        self._create_validator = self.contract.request_body_validator("createDeployment")
        self._lock = threading.RLock()
        self._projects: dict[str, Project] = {}
        self._deployments: dict[str, Deployment] = {}
        self._aliases: dict[str, Alias] = {}
        self._alias_urls: dict[str, str] = {}
        self._last_ms = 0
        self._traffic: list[Exchange] = []
        self.record = True
        self._dirty = False
        self.state_file = self.state_dir / persist.STATE_FILE
        s = self.settings
        if s.persist and self.state_file.exists():
            self._restore()
        default = self._projects.get(s.project_id)
        if default is None:
            self._add_project(s.project_id, s.project_name, list(s.production_aliases))
        else:  # what the sandbox was started with wins over what it remembers
            default.production_aliases = [a.lower() for a in s.production_aliases]
            default.auto_assign = s.auto_assign_custom_domains
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"^/v2/files$"), self._upload),
            ("POST", re.compile(r"^/v13/deployments$"), self._create),
            ("GET", re.compile(r"^/v13/deployments/(?P<id>[^/]+)$"), self._get),
            ("GET", re.compile(r"^/v7/deployments$"), self._list),
            ("GET", re.compile(r"^/v3/deployments/(?P<id>[^/]+)/events$"), self._events),
            ("POST", re.compile(r"^/v2/deployments/(?P<id>[^/]+)/aliases$"), self._assign_alias),
            ("POST", re.compile(r"^/v10/projects/(?P<project>[^/]+)/promote/(?P<id>[^/]+)$"), self._promote),
            ("POST", re.compile(r"^/v1/projects/(?P<project>[^/]+)/rollback/(?P<id>[^/]+)$"), self._rollback),
            (
                "PATCH",
                re.compile(r"^/v1/projects/(?P<project>[^/]+)/rollback/(?P<id>[^/]+)/update-description$"),
                self._update_description,
            ),
            ("PATCH", re.compile(r"^/v12/deployments/(?P<id>[^/]+)/cancel$"), self._cancel),
            ("GET", re.compile(r"^/v9/projects/(?P<project>[^/]+)$"), self._get_project),
            ("GET", re.compile(r"^/v10/projects/(?P<project>[^/]+)/env$"), self._env),
        ]

    # -- entry points -----------------------------------------------------------------------------

    def handle(self, req: ApiRequest) -> ApiResponse:
        with self._lock:
            self.advance()
            resp = self._dispatch(req)
            if req.method != "GET" and resp.status < 400:
                self._dirty = True
            self.flush()
            if not self.record:
                return resp
            headers = dict(req.headers)
            if "authorization" in headers:
                scheme = headers["authorization"].split(" ", 1)[0]
                headers["authorization"] = f"{scheme} {MASK}"

            def record(body: bytes) -> None:
                exchange = Exchange(req.method, req.path, req.query, headers, req.body, resp.status, resp.headers, body)
                with self._lock:
                    self._traffic.append(exchange)

            if resp.stream is None:
                record(resp.body)
                return resp
            return replace(resp, stream=_recorded(resp.stream, record))

    def take_drop(self, method: str, path: str) -> Fault | None:
        """The armed ``drop_upload`` fault for this request, consumed, if there is one."""
        return self.faults.take("drop_upload", method, path)

    @property
    def traffic(self) -> list[Exchange]:
        with self._lock:
            return list(self._traffic)

    def clear_traffic(self) -> None:
        with self._lock:
            self._traffic.clear()

    def advance(self) -> None:
        """Move every deployment and queued promote to where the clock says it is."""
        with self._lock:
            now = self.clock()
            for dep in list(self._deployments.values()):
                before = dep.state
                self._advance_deployment(dep, now)
                self._dirty |= dep.state != before
            for project in self._projects.values():
                if project.job is not None:
                    self._advance_job(project, now)
                    self._dirty = True
            self.flush()

    def flush(self) -> None:
        """Write ``state.json`` if anything changed since the last write (and persisting is on)."""
        with self._lock:
            if not self._dirty or not self.settings.persist:
                return
            self._dirty = False
            state = persist.dump(
                list(self._projects.values()),
                list(self._deployments.values()),
                list(self._aliases.values()),
                self._last_ms,
            )
            persist.save(self.state_file, state)

    def _restore(self) -> None:
        projects, deployments, aliases, self._last_ms = persist.load(self.state_file)
        self._projects = {p.id: p for p in projects}
        self._deployments = {d.id: d for d in deployments}
        self._aliases = {a.alias: a for a in aliases}
        if self.serving is None:
            return
        for dep in deployments:
            root = _served_root(dep)
            if dep.state == "READY" and root is not None and root.is_dir():
                dep.sandbox_url = self.serving.serve_deployment(dep.id, root)
        for name in self._aliases:
            self._alias_urls[name] = self.serving.serve_alias(name, self._alias_root(name))

    # -- read access for the in-process API and the control endpoints -----------------------------

    def deployment(self, id_or_url: str) -> Deployment | None:
        with self._lock:
            self.advance()
            return self._find_deployment(id_or_url)

    def project(self, id_or_name: str | None = None) -> Project | None:
        with self._lock:
            return self._find_project(id_or_name or self.settings.project_id)

    def configure_project(
        self,
        id_or_name: str | None = None,
        *,
        auto_assign: bool | None = None,
        production_aliases: Sequence[str] | None = None,
    ) -> Project:
        """Change a project's settings mid-scenario (created on first use like any other)."""
        with self._lock:
            project = self._resolve_project(id_or_name or self.settings.project_id)
            if project is None:
                raise KeyError(f"no project {id_or_name!r}")
            if auto_assign is not None:
                project.auto_assign = auto_assign
            if production_aliases is not None:
                bad = [a for a in production_aliases if not _HOSTNAME.match(a.lower())]
                if bad:
                    raise ValueError(f"not hostnames: {', '.join(bad)}")
                project.production_aliases = [a.lower() for a in production_aliases]
            self._dirty = True
            self.flush()
            return project

    def alias_target(self, alias: str) -> str | None:
        with self._lock:
            self.advance()
            entry = self._aliases.get(alias.lower())
            return entry.deployment_id if entry else None

    def alias_folder(self, alias: str) -> Path | None:
        with self._lock:
            self.advance()
            entry = self._aliases.get(alias.lower())
            if entry is None:
                return None
            dep = self._deployments.get(entry.deployment_id)
            return _served_root(dep) if dep is not None and dep.state == "READY" else None

    def alias_url(self, alias: str) -> str | None:
        with self._lock:
            return self._alias_urls.get(alias.lower())

    def state(self) -> dict[str, Any]:
        """Everything a person or an end-to-end test needs to find what is served where."""
        with self._lock:
            self.advance()
            return {
                "teamId": self.settings.team_id,
                "projects": [
                    project_view(p, list(self._deployments.values()), self._project_alias_urls(p))
                    for p in self._projects.values()
                ],
                "deployments": {
                    d.id: {"url": d.url, "readyState": d.state, "target": d.target, "sandboxUrl": d.sandbox_url}
                    for d in sorted(self._deployments.values(), key=lambda d: d.created_ms)
                },
                "aliases": {
                    a.alias: {"deploymentId": a.deployment_id, "sandboxUrl": self._alias_urls.get(a.alias)}
                    for a in self._aliases.values()
                },
            }

    # -- dispatch ---------------------------------------------------------------------------------

    def _dispatch(self, req: ApiRequest) -> ApiResponse:
        found = None
        for method, pattern, handler in self._routes:
            m = pattern.match(req.path)
            if m and method == req.method:
                found = handler, m.groupdict()
                break
        if found is None:
            return ApiResponse.error(404, "not_found", f"The requested path {req.path} was not found")
        denied = self._authorize(req)
        if denied is not None:
            return denied
        limited = self.faults.take("rate_limit", req.method, req.path)
        if limited is not None:
            return self._rate_limited(limited)
        broken = self.faults.take("server_error", req.method, req.path)
        if broken is not None:
            code = {500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable"}
            status = broken.status or 500
            return ApiResponse.error(
                status, code.get(status, "gateway_timeout"), "An unexpected error occurred (injected)"
            )
        handler, params = found
        return handler(req, {k: unquote(v) for k, v in params.items()})

    def _authorize(self, req: ApiRequest) -> ApiResponse | None:
        auth = req.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ApiResponse.error(
                403, "forbidden", "The request is missing an authentication token", missingToken=True
            )
        if self.settings.token is not None and token.strip() != self.settings.token:
            return ApiResponse.error(403, "forbidden", "Not authorized", invalidToken=True)
        team = req.arg("teamId")
        if team is not None and team != self.settings.team_id:
            return ApiResponse.error(403, "forbidden", "Not authorized")
        if self.settings.enforce_team and team is None and req.arg("slug") != self.settings.team_slug:
            return ApiResponse.error(403, "forbidden", "Not authorized: this sandbox only answers for its team")
        return None

    def _rate_limited(self, fault: Fault) -> ApiResponse:
        # Retry-After is whole seconds (or a date): a fraction would make urllib3 refuse the header.
        retry = math.ceil(max(0.0, fault.retry_after))
        reset = math.ceil(self.clock()) + retry
        retry_text = str(retry)
        limit = {"remaining": 0, "reset": reset, "resetMs": reset * 1000, "total": 100}
        return ApiResponse.of(
            429,
            {"error": {"code": "rate_limited", "message": "Rate limit exceeded", "limit": limit}},
            (
                ("Retry-After", retry_text),
                ("X-RateLimit-Limit", "100"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(reset)),
            ),
        )

    # -- files ------------------------------------------------------------------------------------

    def _upload(self, req: ApiRequest, _: dict[str, str]) -> ApiResponse:
        digest = (req.headers.get("x-vercel-digest") or req.headers.get("x-now-digest") or "").strip().lower()
        if not digest:
            return ApiResponse.error(400, "missing_digest", "Missing `x-vercel-digest` header with the file's SHA-1")
        if not _SHA1.match(digest):
            return ApiResponse.error(400, "invalid_digest", "The `x-vercel-digest` header is not a SHA-1 hex digest")
        size = req.headers.get("content-length") or req.headers.get("x-now-size")
        if size is None or not size.isdigit() or int(size) != len(req.body):
            return ApiResponse.error(400, "invalid_file_size", "File size is not valid: send a correct Content-Length")
        actual = hashlib.sha1(req.body).hexdigest()  # noqa: S324 - the API's own content address
        if actual != digest:
            return ApiResponse.error(
                400,
                "invalid_digest",
                f"The file's SHA-1 is {actual}, not the {digest} announced in `x-vercel-digest`",
            )
        self._store(req.body, digest)
        return ApiResponse.of(200, {})

    def _store(self, data: bytes, sha: str) -> None:
        path = self.files_dir / sha
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)

    # -- deployments ------------------------------------------------------------------------------

    def _create(self, req: ApiRequest, _: dict[str, str]) -> ApiResponse:
        try:
            body = req.json()
        except ValueError:
            return ApiResponse.error(400, "bad_request", "Invalid JSON in the request body")
        errors = sorted(self._create_validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            return ApiResponse.error(400, "bad_request", error_message(errors[0]))
        for key in ("forceNew", "skipAutoDetectionConfirmation"):
            value = req.arg(key)
            if value is not None and value not in ("0", "1"):
                return ApiResponse.error(400, "bad_request", f"Invalid request: `{key}` should be 0 or 1")
        source: Deployment | None = None
        if body.get("deploymentId"):
            source = self._find_deployment(body["deploymentId"])
            if source is None:
                return ApiResponse.error(404, "not_found", "The deployment to redeploy was not found")
        if body.get("gitSource") is not None:
            if body.get("files"):
                return ApiResponse.error(
                    400, "bad_request", "Invalid request: `files` and `gitSource` cannot be used together"
                )
            return ApiResponse.error(
                400, "bad_request", "The sandbox cannot clone a git repository: upload the files instead"
            )
        files: dict[str, str] = {}
        missing: list[str] = []
        for index, item in enumerate(body.get("files") or []):
            name = _safe_path(item["file"])
            if name is None:
                return ApiResponse.error(
                    400, "bad_request", f"Invalid request: `files[{index}].file` is not a safe relative path"
                )
            if "data" in item:
                raw = _decode_inline(item)
                if raw is None:
                    return ApiResponse.error(
                        400, "bad_request", f"Invalid request: `files[{index}].data` is not valid base64"
                    )
                sha = hashlib.sha1(raw).hexdigest()  # noqa: S324
                self._store(raw, sha)
            else:
                sha = str(item.get("sha") or "").lower()
                if not _SHA1.match(sha):
                    return ApiResponse.error(
                        400, "bad_request", f"Invalid request: `files[{index}].sha` must be a SHA-1"
                    )
                if not (self.files_dir / sha).exists() and sha not in missing:
                    missing.append(sha)
            files[name] = sha
        if source is not None and not files:
            files = dict(source.files)
        if not files:
            return ApiResponse.error(400, "bad_request", "Invalid request: a deployment needs `files`")
        lost = self.faults.take("missing_files", req.method, req.path)
        if lost is not None:
            missing = list(lost.shas) or sorted({s for s in files.values()} | set(missing))
        if missing:
            return ApiResponse.error(400, "missing_files", "Missing files", missing=missing)
        project = self._resolve_project(str(body.get("project") or body["name"]))
        if project is None:
            return ApiResponse.error(404, "not_found", "Project not found")
        target, custom = self._target(project, body)
        outcome, error_code, error_msg = "READY", None, None
        for kind, result in (("build_error", "ERROR"), ("build_blocked", "BLOCKED"), ("build_stuck", "STUCK")):
            fault = self.faults.take(kind, req.method, req.path)
            if fault is not None:
                outcome, error_code, error_msg = result, fault.error_code, fault.error_message
                break
        meta = dict(source.meta) if source and not body.get("meta") else {}
        meta.update(body.get("meta") or {})
        created = self._now_ms()
        dep = Deployment(
            id=random_id("dpl_"),
            url=f"{slug(project.name)}-{random_id('', 9, LOWER36)}-{self.settings.team_slug}.vercel.app",
            name=project.name,
            project_id=project.id,
            created_ms=created,
            target=target,
            meta=meta,
            files=files,
            outcome=outcome,
            queue_s=self.settings.queue_s,
            build_s=self.settings.build_delay,
            build_id=random_id("bld_", 9, LOWER36),
            creator={"uid": "sandbox-user", "username": "sandbox", "type": "user"},
            git_metadata=body.get("gitMetadata") or (source.git_metadata if source else None),
            custom_environment=custom,
            project_settings=dict(body.get("projectSettings") or (source.project_settings if source else {})),
            pending_code=error_code,
            pending_error=error_msg,
            source="redeploy" if source else "cli",
        )
        dep.events.extend(self._queued_events(dep))
        self._deployments[dep.id] = dep
        self._advance_deployment(dep, self.clock())
        return ApiResponse.of(200, dep.view(self.settings.team_slug))

    def _target(self, project: Project, body: Mapping[str, Any]) -> tuple[str | None, dict[str, str] | None]:
        requested = body.get("customEnvironmentSlugOrId") or body.get("target")
        if requested in (None, "preview"):
            return None, None
        if requested in ("production", "staging"):
            return str(requested), None
        name = str(requested)
        for env_slug, env_id in project.custom_environments.items():
            if name in (env_slug, env_id):
                return None, {"id": env_id, "slug": env_slug}
        env_id = random_id("env_", 20)
        project.custom_environments[name] = env_id
        return None, {"id": env_id, "slug": name}

    def _get(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        dep = self._find_deployment(params["id"])
        if dep is None:
            return ApiResponse.error(404, "not_found", "The deployment was not found")
        return ApiResponse.of(200, dep.view(self.settings.team_slug))

    def _list(self, req: ApiRequest, _: dict[str, str]) -> ApiResponse:
        numbers: dict[str, float] = {}
        for key in ("limit", "since", "until", "from", "to"):
            raw = req.arg(key)
            if raw is None:
                continue
            try:
                numbers[key] = float(raw)
            except ValueError:
                return ApiResponse.error(400, "bad_request", f"Invalid request: `{key}` should be a number")
        limit = int(numbers.get("limit", DEFAULT_LIST_LIMIT))
        if limit < 1 or limit > MAX_LIST_LIMIT:
            return ApiResponse.error(
                400, "bad_request", f"Invalid request: `limit` should be between 1 and {MAX_LIST_LIMIT}"
            )
        project_arg = req.arg("projectId")
        project_ids = [p for raw in req.args("projectIds") for p in raw.split(",") if p]
        if project_arg and project_ids:
            return ApiResponse.error(
                400, "bad_request", "Invalid request: `projectIds` cannot be used with `projectId`"
            )
        wanted_projects: set[str] | None = None
        if project_arg or project_ids:
            wanted_projects = set()
            for ref in [project_arg, *project_ids] if project_arg else project_ids:
                project = self._find_project(str(ref))
                if project is not None:
                    wanted_projects.add(project.id)
        states = {s.strip().upper() for s in (req.arg("state") or "").split(",") if s.strip()}
        target = req.arg("target")
        app_name, branch, sha = req.arg("app"), req.arg("branch"), req.arg("sha")
        users = {u for u in (req.arg("users") or "").split(",") if u}
        candidate = req.arg("rollbackCandidate")
        until = numbers.get("until", numbers.get("to"))
        since = numbers.get("since", numbers.get("from"))

        def keep(d: Deployment) -> bool:
            if wanted_projects is not None and d.project_id not in wanted_projects:
                return False
            if states and d.state not in states:
                return False
            if target is not None and (d.target or "preview") != target:
                return False
            if app_name is not None and d.name != app_name:
                return False
            if branch is not None and d.branch != branch:
                return False
            if sha is not None and d.sha != sha:
                return False
            if users and d.creator["uid"] not in users:
                return False
            if candidate is not None and d.rollback_candidate != (candidate == "true"):
                return False
            if until is not None and not d.created_ms < until:
                return False
            return since is None or d.created_ms > since

        matched = sorted((d for d in self._deployments.values() if keep(d)), key=lambda d: -d.created_ms)
        page = matched[:limit]
        more = len(matched) > limit
        pagination = {
            "count": len(page),
            "next": page[-1].created_ms if page and more else None,
            "prev": page[0].created_ms if page else None,
        }
        return ApiResponse.of(
            200, {"deployments": [d.list_item(self.settings.team_slug) for d in page], "pagination": pagination}
        )

    def _events(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        dep = self._find_deployment(params["id"])
        if dep is None:
            return ApiResponse.error(404, "not_found", "The deployment was not found")
        direction = req.arg("direction") or "forward"
        if direction not in ("forward", "backward"):
            return ApiResponse.error(400, "bad_request", "Invalid request: `direction` should be forward or backward")
        try:
            limit = int(float(req.arg("limit") or -1))
            since_arg, until_arg = req.arg("since"), req.arg("until")
            since = float(since_arg) if since_arg else None
            until = float(until_arg) if until_arg else None
        except ValueError:
            return ApiResponse.error(
                400, "bad_request", "Invalid request: `limit`, `since` and `until` should be numbers"
            )
        follow = req.arg("follow")
        if follow not in (None, "0", "1"):
            return ApiResponse.error(400, "bad_request", "Invalid request: `follow` should be 0 or 1")

        def wanted(event: Mapping[str, Any]) -> bool:
            return (since is None or event["created"] >= since) and (until is None or event["created"] <= until)

        if follow == "1":
            return ApiResponse(
                200,
                headers=(("Content-Type", "application/stream+json"),),
                stream=self._follow(dep.id, wanted, limit),
            )
        events = [e for e in dep.events if wanted(e)]
        if direction == "backward":
            events.reverse()
        if limit >= 0:
            events = events[:limit]
        return ApiResponse.of(200, events)

    def _follow(self, dep_id: str, wanted: Callable[[Mapping[str, Any]], bool], limit: int) -> Iterator[bytes]:
        """Events as they happen, one JSON document a line, until the build is over."""
        sent = 0
        count = 0
        deadline = time.monotonic() + self.settings.follow_timeout
        while True:
            with self._lock:
                self.advance()
                dep = self._deployments[dep_id]
                fresh, done = dep.events[sent:], dep.state in TERMINAL
            sent += len(fresh)
            for event in fresh:
                if wanted(event) and (limit < 0 or count < limit):
                    count += 1
                    yield json.dumps(event, separators=(",", ":")).encode() + b"\n"
            if done or (0 <= limit <= count) or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def _cancel(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        dep = self._find_deployment(params["id"])
        if dep is None:
            return ApiResponse.error(404, "not_found", "The deployment was not found")
        if dep.state not in IN_PROGRESS:
            return ApiResponse.error(
                400, "deployment_not_cancelable", f"The deployment is {dep.state} and can no longer be canceled"
            )
        dep.state = "CANCELED"
        dep.error_message = "The deployment was canceled"
        dep.events.append(self._event(dep, self._now_ms(), "The deployment was canceled", kind="deployment-state"))
        return ApiResponse.of(200, dep.view(self.settings.team_slug))

    # -- aliases, promote, rollback ---------------------------------------------------------------

    def _assign_alias(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        try:
            body = req.json()
        except ValueError:
            return ApiResponse.error(400, "bad_request", "Invalid JSON in the request body")
        if not isinstance(body, dict):
            return ApiResponse.error(400, "bad_request", "Invalid request: the body should be an object")
        dep = self._find_deployment(params["id"])
        if dep is None:
            return ApiResponse.error(404, "not_found", "The deployment was not found")
        alias = str(body.get("alias") or "").strip().lower()
        if not alias or not _HOSTNAME.match(alias):
            return ApiResponse.error(400, "invalid_alias", f"The alias {body.get('alias')!r} is not a valid hostname")
        if dep.state != "READY":
            return ApiResponse.error(400, "deployment_not_ready", "The deployment is not READY and can not be aliased")
        current = self._aliases.get(alias)
        if current is not None and current.project_id != dep.project_id:
            return ApiResponse.error(409, "alias_in_use", f"The alias {alias} is in use by another project")
        if current is not None and current.deployment_id == dep.id:
            return ApiResponse.error(
                409, "alias_already_assigned", f"The alias {alias} is already assigned to this deployment"
            )
        entry, old = self._assign(alias, dep)
        return ApiResponse.of(200, {"uid": entry.uid, "alias": alias, "created": entry.created, "oldDeploymentId": old})

    def _assign(self, alias: str, dep: Deployment) -> tuple[Alias, str | None]:
        alias = alias.lower()
        old = self._aliases.get(alias)
        old_id = old.deployment_id if old is not None else None
        if old is not None and old_id != dep.id:
            previous = self._deployments.get(old.deployment_id)
            if previous is not None and alias in previous.alias:
                previous.alias.remove(alias)
        entry = Alias(
            alias=alias,
            uid=old.uid if old is not None else random_id("", 24),
            deployment_id=dep.id,
            project_id=dep.project_id,
            created=old.created if old is not None else _iso(self.clock()),
        )
        self._aliases[alias] = entry
        if alias not in dep.alias:
            dep.alias.append(alias)
        if self.serving is not None and alias not in self._alias_urls:
            self._alias_urls[alias] = self.serving.serve_alias(alias, self._alias_root(alias))
        return entry, old_id

    def _alias_root(self, alias: str) -> Callable[[], Path | None]:
        return lambda: self.alias_folder(alias)

    def _project_and_deployment(self, params: dict[str, str]) -> tuple[Project, Deployment] | ApiResponse:
        project = self._resolve_project(params["project"])
        if project is None:
            return ApiResponse.error(404, "not_found", "Project not found")
        dep = self._find_deployment(params["id"])
        if dep is None or dep.project_id != project.id:
            return ApiResponse.error(404, "not_found", "The deployment was not found in this project")
        return project, dep

    def _promote(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        found = self._project_and_deployment(params)
        if isinstance(found, ApiResponse):
            return found
        project, dep = found
        if dep.state != "READY":
            return ApiResponse.error(409, "deployment_not_ready", f"The deployment is {dep.state}, not READY")
        if project.job is not None:
            return ApiResponse.error(409, "alias_request_in_progress", "Another promote is still in progress")
        if project.production_id == dep.id and not project.rolled_back:
            return ApiResponse.error(
                409, "deployment_already_current", "The deployment already serves the production domains"
            )
        now = self.clock()
        request = {
            "type": "promote",
            "fromDeploymentId": project.production_id,
            "toDeploymentId": dep.id,
            "requestedAt": int(now * 1000),
        }
        queued = self.faults.take("promote_queued", req.method, req.path)
        if queued is not None:
            project.last_alias_request = {**request, "jobStatus": "pending"}
            project.job = AliasJob(dep.id, project.production_id, queued.outcome, now, queued.delay)
            self._advance_job(project, now)
            return ApiResponse.empty(202)
        project.last_alias_request = {**request, "jobStatus": "succeeded"}
        project.last_rollback_target = None
        self._go_live(project, dep)
        return ApiResponse.empty(201)

    def _rollback(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        found = self._project_and_deployment(params)
        if isinstance(found, ApiResponse):
            return found
        project, dep = found
        if dep.state != "READY":
            return ApiResponse.error(409, "deployment_not_ready", f"The deployment is {dep.state}, not READY")
        if project.job is not None:
            return ApiResponse.error(409, "alias_request_in_progress", "A promote is still in progress")
        if project.production_id == dep.id:
            return ApiResponse.error(
                409, "deployment_already_current", "The deployment already serves the production domains"
            )
        if not dep.rollback_candidate:
            return ApiResponse.error(
                422,
                "not_rollback_candidate",
                "Only a deployment that has served production before can be rolled back to; promote it instead",
            )
        now_ms = int(self.clock() * 1000)
        request = {
            "type": "rollback",
            "fromDeploymentId": project.production_id,
            "toDeploymentId": dep.id,
            "requestedAt": now_ms,
            "jobStatus": "succeeded",
        }
        project.last_alias_request = dict(request)
        project.last_rollback_target = {**request, "description": req.arg("description")}
        self._go_live(project, dep)
        return ApiResponse.empty(201)

    def _update_description(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        found = self._project_and_deployment(params)
        if isinstance(found, ApiResponse):
            return found
        project, dep = found
        try:
            body = req.json() if req.body else {}
        except ValueError:
            return ApiResponse.error(400, "bad_request", "Invalid JSON in the request body")
        if not isinstance(body, dict) or not isinstance(body.get("description", ""), str):
            return ApiResponse.error(400, "bad_request", "Invalid request: `description` should be a string")
        target = project.last_rollback_target
        if target is None or target.get("toDeploymentId") != dep.id:
            return ApiResponse.error(404, "not_found", "There is no rollback to this deployment to describe")
        target["description"] = body.get("description")
        return ApiResponse.empty(200)

    def _go_live(self, project: Project, dep: Deployment) -> None:
        """Point the project's production domains at ``dep``."""
        project.production_id = dep.id
        for alias in project.production_aliases:
            self._assign(alias, dep)
        dep.substate = "PROMOTED"
        dep.alias_assigned = True

    def _advance_job(self, project: Project, now: float) -> None:
        job, request = project.job, project.last_alias_request
        if job is None or request is None:
            return
        if now >= job.started + 2 * job.delay:
            project.job = None
            dep = self._deployments.get(job.to_id)
            if job.outcome == "succeeded" and dep is not None and dep.state == "READY":
                request["jobStatus"] = "succeeded"
                project.last_rollback_target = None
                self._go_live(project, dep)
            else:
                request["jobStatus"] = "failed"
        elif now >= job.started + job.delay:
            request["jobStatus"] = "in-progress"

    # -- projects ---------------------------------------------------------------------------------

    def _get_project(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        project = self._resolve_project(params["project"])
        if project is None:
            return ApiResponse.error(404, "not_found", "Project not found")
        view = project_view(project, list(self._deployments.values()), self._project_alias_urls(project))
        return ApiResponse.of(200, view)

    def _env(self, req: ApiRequest, params: dict[str, str]) -> ApiResponse:
        project = self._resolve_project(params["project"])
        if project is None:
            return ApiResponse.error(404, "not_found", "Project not found")
        branch = req.arg("gitBranch")
        custom = req.arg("customEnvironmentId") or req.arg("customEnvironmentSlug")
        envs = []
        for var in project.env:
            if branch is not None and var.git_branch not in (None, branch):
                continue
            if custom is not None:
                ids = {project.custom_environments.get(custom, custom)}
                if var.custom_environment_ids and not ids & set(var.custom_environment_ids):
                    continue
            envs.append(var.view())  # names and targets only: the sandbox never hands out values
        return ApiResponse.of(200, {"envs": envs, "pagination": {"count": len(envs), "next": None, "prev": None}})

    def _project_alias_urls(self, project: Project) -> dict[str, str | None]:
        # The production domains, and every alias the project's deployments were given.
        names = [*project.production_aliases]
        names += sorted(a.alias for a in self._aliases.values() if a.project_id == project.id)
        return {a: self._alias_urls.get(a) for a in dict.fromkeys(names)}

    def _add_project(self, project_id: str, name: str, aliases: list[str]) -> Project:
        s = self.settings
        project = Project(
            id=project_id,
            name=name,
            created_ms=self._now_ms(),
            production_aliases=[a.lower() for a in aliases],
            auto_assign=s.auto_assign_custom_domains,
            env=[EnvVar(v.key, v.target, v.type, v.id, v.git_branch, v.custom_environment_ids) for v in s.env_vars],
            environment_aliases={k: [a.lower() for a in v] for k, v in s.environment_aliases.items()},
        )
        self._projects[project.id] = project
        self._dirty = True
        return project

    def _find_project(self, id_or_name: str) -> Project | None:
        if id_or_name in self._projects:
            return self._projects[id_or_name]
        for project in self._projects.values():
            if project.name == id_or_name:
                return project
        return None

    def _resolve_project(self, id_or_name: str) -> Project | None:
        """The project, created on first use unless the sandbox was told not to."""
        found = self._find_project(id_or_name)
        if found is not None or not self.settings.auto_create_projects:
            return found
        if id_or_name.startswith("prj_"):
            return self._add_project(id_or_name, slug(id_or_name.removeprefix("prj_")), [])
        name = slug(id_or_name)
        return self._add_project(random_id("prj_"), name, [f"{name}.vercel.app"])

    # -- state progression ------------------------------------------------------------------------

    def _advance_deployment(self, dep: Deployment, now: float) -> None:
        if dep.state in TERMINAL:
            return
        start = dep.created_ms / 1000
        t_build = start + dep.queue_s
        t_done = t_build + dep.build_s
        if dep.state == "QUEUED" and now >= t_build:
            if dep.outcome == "BLOCKED":
                dep.state = "BLOCKED"
                dep.error_message = dep.pending_error or "The deployment was blocked"
                dep.events.append(self._event(dep, _ms(t_build), dep.error_message, kind="stderr", level="error"))
                return
            dep.state = "BUILDING"
            dep.building_ms = _ms(t_build)
            dep.events.extend(self._building_events(dep, _ms(t_build)))
        if dep.state == "BUILDING" and dep.outcome != "STUCK" and now >= t_done:
            if dep.outcome == "ERROR":
                dep.state = "ERROR"
                dep.error_code = dep.pending_code or "BUILD_FAILED"
                dep.error_message = dep.pending_error or "The build failed"
                dep.events.append(
                    self._event(dep, _ms(t_done), f"Error: {dep.error_message}", kind="stderr", level="error")
                )
                dep.events.append(self._event(dep, _ms(t_done) + 1, "Build failed", kind="deployment-state"))
                return
            self._materialize(dep)
            dep.state = "READY"
            dep.ready_ms = _ms(t_done)
            dep.substate = "STAGED"
            dep.events.append(self._event(dep, _ms(t_done), "Deployment completed", kind="deployment-state"))
            self._auto_alias(dep)

    def _auto_alias(self, dep: Deployment) -> None:
        """What Vercel assigns by itself when a build turns READY."""
        project = self._projects[dep.project_id]
        team = self.settings.team_slug
        if dep.target == "production":
            if project.auto_assign and not project.rolled_back and project.job is None:
                self._go_live(project, dep)
            return
        aliases: list[str] = []
        if dep.target == "staging":
            aliases.append(f"{slug(project.name)}-{team}.vercel.app")
        if dep.custom_environment is not None:
            aliases.extend(project.environment_aliases.get(dep.custom_environment["slug"], []))
        if dep.branch:
            aliases.append(f"{slug(project.name)}-git-{slug(dep.branch)}-{team}.vercel.app")
        for alias in aliases:
            self._assign(alias, dep)
        dep.alias_assigned = True

    def _materialize(self, dep: Deployment) -> None:
        folder = self.builds_dir / dep.id
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, sha in dep.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.files_dir / sha, target)
        dep.folder = folder
        root = _served_root(dep)
        if root is not None and root != folder:
            root.mkdir(parents=True, exist_ok=True)
            if (folder / "vercel.json").is_file() and not (root / "vercel.json").exists():
                shutil.copyfile(folder / "vercel.json", root / "vercel.json")
        if self.serving is not None and root is not None:
            dep.sandbox_url = self.serving.serve_deployment(dep.id, root)

    # -- events -----------------------------------------------------------------------------------

    def _event(
        self,
        dep: Deployment,
        at_ms: int,
        text: str,
        *,
        kind: str = "stdout",
        level: str | None = None,
        index: int | None = None,
    ) -> dict[str, Any]:
        n = len(dep.events) if index is None else index
        event: dict[str, Any] = {
            "type": kind,
            "created": at_ms,
            "date": at_ms,
            "deploymentId": dep.id,
            "id": f"{dep.build_id}-{n}",
            "serial": f"{at_ms}{n:04d}",
            "text": text,
            "info": {"type": "build", "name": dep.build_id, "entrypoint": "."},
        }
        if level is not None:
            event["level"] = level
        return event

    def _queued_events(self, dep: Deployment) -> list[dict[str, Any]]:
        at = dep.created_ms
        lines = [
            "Running build in Washington, D.C., USA (East) - iad1 (sandbox)",
            f"Retrieving list of deployment files... {len(dep.files)} files",
        ]
        return [self._event(dep, at + i, line, index=i) for i, line in enumerate(lines)]

    def _building_events(self, dep: Deployment, at: int) -> list[dict[str, Any]]:
        settings = dep.project_settings
        lines = [
            ("command", f'Running "{settings.get("installCommand") or "npm install"}"'),
            ("stdout", f"added {len(dep.files)} packages in 1s (sandbox)"),
            ("command", f'Running "{settings.get("buildCommand") or "vercel build"}"'),
            ("stdout", f"Build Completed in /vercel/output [{dep.build_s:.2f}s]"),
            ("stdout", "Deploying outputs..."),
        ]
        base = len(dep.events)
        return [self._event(dep, at + i, text, kind=kind, index=base + i) for i, (kind, text) in enumerate(lines)]

    # -- helpers ----------------------------------------------------------------------------------

    def _find_deployment(self, id_or_url: str) -> Deployment | None:
        key = id_or_url.strip()
        for prefix in ("https://", "http://"):
            key = key.removeprefix(prefix)
        key = key.rstrip("/")
        if key in self._deployments:
            return self._deployments[key]
        lowered = key.lower()
        for dep in self._deployments.values():
            if dep.url == lowered:
                return dep
        entry = self._aliases.get(lowered)
        return self._deployments.get(entry.deployment_id) if entry else None

    def _now_ms(self) -> int:
        """A creation time in ms, strictly increasing, so ``until`` pagination never skips a twin."""
        now = int(self.clock() * 1000)
        self._last_ms = max(now, self._last_ms + 1)
        return self._last_ms


def _recorded(chunks: Iterator[bytes], record: Callable[[bytes], None]) -> Iterator[bytes]:
    seen: list[bytes] = []
    try:
        for chunk in chunks:
            seen.append(chunk)
            yield chunk
    finally:
        record(b"".join(seen))


def _served_root(dep: Deployment | None) -> Path | None:
    if dep is None or dep.folder is None:
        return None
    out = dep.project_settings.get("outputDirectory")
    if out:
        safe = _safe_path(str(out))
        if safe is not None:
            return dep.folder / safe
    return dep.folder


def _safe_path(name: str) -> str | None:
    """``name`` as a clean relative POSIX path, or None when it could escape the deployment."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return None
    clean = posixpath.normpath(name)
    if clean in (".", "") or clean.startswith("../") or clean == ".." or "/../" in f"/{clean}/":
        return None
    return clean


def _decode_inline(item: Mapping[str, Any]) -> bytes | None:
    data = str(item["data"])
    if item.get("encoding") == "base64":
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
    return data.encode("utf-8")


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = ["BASE62", "ApiRequest", "ApiResponse", "Exchange", "SandboxApp", "SandboxSettings", "Serving"]
