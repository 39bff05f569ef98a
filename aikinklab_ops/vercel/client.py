"""A small client for the Vercel REST API operations a deploy needs.

The client takes its HTTP session (``aikinklab_ops.http.make_session``) in the constructor: the
session owns timeouts, ``Retry-After`` (capped) and retries of idempotent calls. The client adds
what the session cannot know:

* ``teamId`` on every call when a team is configured, and the project by id, never guessed;
* typed errors (``VercelApiError``) with an actionable hint, and transport errors translated at
  this boundary (``VercelTransportError``), none of them ever carrying the token;
* per-file retries of uploads (uploading the same content twice is harmless);
* ``create_deployment`` that never makes two deployments for one request: each body carries a
  unique ``meta`` key, and before a create whose answer was lost is retried, the project's
  deployments are searched for that key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import requests
import urllib3.exceptions

from aikinklab_ops.config.context import VERCEL_API_DEFAULT
from aikinklab_ops.errors import InputError, OpsError, UsageError
from aikinklab_ops.http import describe_transport_error
from aikinklab_ops.vercel.errors import SERVICE, VercelApiError, VercelTransportError, decode_error

#: The ``meta`` key that marks one create request, so a lost answer can be found again.
REQUEST_KEY = "aikinklabOpsRequest"
#: Vercel refuses deployments with more files than this.
MAX_FILES = 15_000
#: Upper bound on any wait this client does on its own between retries.
MAX_RETRY_WAIT_S = 60.0

Deployment = dict[str, Any]


def new_request_key() -> str:
    return uuid.uuid4().hex


def _not_sent(err: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (nothing to reconcile)."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(err, requests.exceptions.ConnectionError) and not isinstance(err, requests.exceptions.ReadTimeout):
        seen: BaseException | None = err
        while seen is not None:
            reason = getattr(seen, "reason", None)
            if isinstance(seen, urllib3.exceptions.NewConnectionError) or isinstance(
                reason, urllib3.exceptions.NewConnectionError
            ):
                return True
            if isinstance(seen, ConnectionRefusedError):
                return True
            nxt = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
            seen = nxt or seen.__cause__ or seen.__context__
            if seen is err:
                break
    return False


class VercelClient:
    """The Vercel operations this project calls; their shapes are in ``sandbox/vercel-api-subset.json``."""

    def __init__(
        self,
        session: requests.Session,
        token: str,
        api_url: str = VERCEL_API_DEFAULT,
        team_id: str | None = None,
        project_id: str | None = None,
        *,
        upload_attempts: int = 4,
        create_attempts: int = 3,
        backoff_s: Sequence[float] = (1.0, 2.0, 4.0, 8.0),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not token:
            raise UsageError(
                "VERCEL_TOKEN is not set",
                hint="set VERCEL_TOKEN to a Vercel access token (https://vercel.com/account/tokens)",
            )
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            raise UsageError(
                "VERCEL_TOKEN contains a line break, spaces or control characters",
                hint="store the token exactly as Vercel shows it (no trailing newline: e.g. `printf %s TOKEN | "
                "gh secret set VERCEL_TOKEN`)",
            )
        self.session = session
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.team_id = team_id or None
        self.project_id = project_id or None
        self.upload_attempts = max(1, upload_attempts)
        self.create_attempts = max(1, create_attempts)
        self.backoff_s = tuple(backoff_s) or (1.0,)
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:  # never the token
        return f"VercelClient(api_url={self.api_url!r}, team_id={self.team_id!r}, project_id={self.project_id!r})"

    # -- plumbing -------------------------------------------------------------------------------
    def require_project(self, project_id: str | None = None) -> str:
        pid = project_id or self.project_id
        if not pid:
            raise UsageError(
                "VERCEL_PROJECT_ID is not set: the Vercel project is never guessed from the repository name",
                hint="set VERCEL_PROJECT_ID to the project's id (prj_…; Vercel → Project → Settings → General, "
                "or .vercel/project.json after `vercel link`)",
            )
        return pid

    def _wait(self, attempt: int, retry_after: float | None = None) -> None:
        delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._sleep(min(delay, MAX_RETRY_WAIT_S))

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: BinaryIO | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One call; errors come back typed, transport failures translated, never the token."""
        url = self.api_url + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if self.team_id:
            query["teamId"] = self.team_id
        hdrs = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        hdrs.update(headers or {})
        try:
            resp = self.session.request(method, url, params=query, json=json, data=data, headers=hdrs)
        except requests.RequestException as err:
            raise VercelTransportError(
                f"{SERVICE}: {operation}: {describe_transport_error(err, url)}",
                maybe_processed=not _not_sent(err),
                hint="check the network and VERCEL_API_URL, then run again",
            ) from err
        if resp.status_code >= 400:
            raise decode_error(
                resp.status_code, resp.headers, resp.content, operation=operation, team_scoped=bool(self.team_id)
            )
        return resp

    def _json(self, method: str, path: str, *, operation: str, **kw: Any) -> Any:
        resp = self.request(method, path, operation=operation, **kw)
        if not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError as err:
            raise VercelApiError(
                f"{SERVICE}: {operation}: the answer (HTTP {resp.status_code}) is not JSON",
                status=resp.status_code,
                hint="check VERCEL_API_URL points at the Vercel API",
            ) from err

    # -- files ----------------------------------------------------------------------------------
    def upload_file(self, path: Path, sha: str, size: int) -> None:
        """POST /v2/files: stream one file's bytes; retried, since the same content is harmless twice."""
        last: Exception | None = None
        for attempt in range(self.upload_attempts):
            try:
                with open(path, "rb") as fh:
                    self.request(
                        "POST",
                        "/v2/files",
                        operation=f"upload of {path.name}",
                        # requests marks a zero-length file body ``Transfer-Encoding: chunked`` next to
                        # our Content-Length but sends no chunks, so the server waits for ever.
                        data=fh if size else b"",
                        headers={
                            "Content-Type": "application/octet-stream",
                            "Content-Length": str(size),
                            "x-vercel-digest": sha,
                        },
                    )
                return
            except OSError as err:
                raise InputError(f"{path}: cannot read the file to upload: {err.strerror or err}") from err
            except VercelTransportError as err:
                last = err
                retry_after = None
            except VercelApiError as err:
                if err.status is None or (err.status < 500 and err.status != 429):
                    raise
                last, retry_after = err, err.retry_after_s
            if attempt + 1 < self.upload_attempts:
                self._wait(attempt, retry_after)
        assert last is not None
        raise last

    # -- deployments ----------------------------------------------------------------------------
    def create_deployment(self, body: Mapping[str, Any], *, since_ms: int | None = None) -> Deployment:
        """POST /v13/deployments, at most one deployment per body.

        ``body["meta"][REQUEST_KEY]`` must be unique to this request. When an answer is lost
        (connection dropped after sending, timeout, 5xx), the project's recent deployments are
        searched for that key first; only when none carries it is the create sent again.
        ``missing_files`` and other 4xx answers are raised at once (``VercelApiError``).
        """
        meta = body.get("meta")
        key = meta.get(REQUEST_KEY) if isinstance(meta, Mapping) else None
        if not key:
            raise ValueError(f"create_deployment needs body['meta'][{REQUEST_KEY!r}] (use new_request_key())")
        since = since_ms if since_ms is not None else int(self._clock() * 1000) - 10 * 60 * 1000
        last: Exception | None = None
        maybe_created = False
        for attempt in range(self.create_attempts):
            if attempt:
                mine = self._find_created(str(key), since, maybe_created)
                if mine is not None:
                    return mine
            try:
                result = self._json(
                    "POST",
                    "/v13/deployments",
                    operation="create deployment",
                    params={"skipAutoDetectionConfirmation": "1"},
                    json=dict(body),
                )
                if not isinstance(result, dict) or not result.get("id"):
                    raise VercelApiError(
                        f"{SERVICE}: create deployment: the answer has no deployment id",
                        hint="check VERCEL_API_URL points at the Vercel API",
                    )
                return result
            except VercelTransportError as err:
                last, retry_after = err, None
                maybe_created = maybe_created or err.maybe_processed
            except VercelApiError as err:
                if err.status is None or err.status < 500:
                    raise
                last, retry_after = err, err.retry_after_s
                maybe_created = True
            if attempt + 1 < self.create_attempts:
                self._wait(attempt, retry_after)
        # The last attempt's answer was lost too: one more look before giving up.
        mine = self._find_created(str(key), since, maybe_created)
        if mine is not None:
            return mine
        assert last is not None
        raise last

    def _find_created(self, key: str, since_ms: int, maybe_created: bool) -> Deployment | None:
        """The deployment an earlier create of ``key`` made, if any; a failed look says what is at stake."""
        try:
            found = self.find_deployment_by_meta(REQUEST_KEY, key, since_ms=since_ms)
            return None if found is None else self.get_deployment(str(found.get("uid") or found.get("id")))
        except OpsError as err:
            if maybe_created:
                err.message += (
                    " (while looking for the deployment whose create answer was lost: it may have been created "
                    "and may still build and go live; check `aikinklab-ops deployments list` before deploying again)"
                )
            raise

    def get_deployment(self, id_or_url: str) -> Deployment:
        """GET /v13/deployments/{idOrUrl}; a URL may be given with or without https://."""
        ref = id_or_url.strip()
        for prefix in ("https://", "http://"):
            if ref.startswith(prefix):
                ref = ref[len(prefix) :]
        ref = ref.rstrip("/")
        result = self._json("GET", f"/v13/deployments/{quote(ref, safe='')}", operation=f"get deployment {ref}")
        return dict(result)

    def list_deployments(
        self,
        *,
        project_id: str | None = None,
        target: str | None = None,
        state: str | None = None,
        limit: int = 20,
        since_ms: int | None = None,
        until_ms: int | None = None,
        max_pages: int = 50,
    ) -> Iterator[Deployment]:
        """GET /v7/deployments for the project, newest first, following ``pagination.next``."""
        params: dict[str, Any] = {
            "projectId": self.require_project(project_id),
            "limit": limit,
            "target": target,
            "state": state,
            "since": since_ms,
            "until": until_ms,
        }
        for _ in range(max_pages):
            page = self._json("GET", "/v7/deployments", operation="list deployments", params=params)
            items = page.get("deployments") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise VercelApiError(f"{SERVICE}: list deployments: the answer has no deployments list")
            yield from (dict(d) for d in items if isinstance(d, dict))
            nxt = (page.get("pagination") or {}).get("next")
            if not items or nxt is None:
                return
            params["until"] = int(nxt)

    def find_deployment_by_meta(self, key: str, value: str, *, since_ms: int | None = None) -> Deployment | None:
        for dep in self.list_deployments(since_ms=since_ms, limit=50, max_pages=10):
            meta = dep.get("meta")
            if isinstance(meta, dict) and meta.get(key) == value:
                return dep
        return None

    def get_events(self, id_or_url: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """GET /v3/deployments/{idOrUrl}/events: the last ``limit`` build events, oldest first."""
        result = self._json(
            "GET",
            f"/v3/deployments/{quote(id_or_url, safe='')}/events",
            operation=f"build events of {id_or_url}",
            params={"direction": "backward", "limit": limit, "builds": 1},
        )
        events = [e for e in result if isinstance(e, dict)] if isinstance(result, list) else []
        events.sort(key=lambda e: float(e.get("created") or e.get("date") or 0))
        return events

    def assign_alias(self, deployment_id: str, alias: str) -> dict[str, Any]:
        """POST /v2/deployments/{id}/aliases. Pointing an alias at the same deployment twice is harmless,
        so a lost answer is retried like an upload."""
        last: Exception | None = None
        for attempt in range(self.upload_attempts):
            try:
                return dict(
                    self._json(
                        "POST",
                        f"/v2/deployments/{quote(deployment_id, safe='')}/aliases",
                        operation=f"assign alias {alias}",
                        json={"alias": alias},
                    )
                )
            except VercelTransportError as err:
                last, retry_after = err, None
            except VercelApiError as err:
                if err.code == "alias_already_assigned":
                    # The wanted state already holds (e.g. an earlier attempt's answer was lost).
                    return {"alias": alias, "oldDeploymentId": None}
                if err.status is None or err.status < 500:
                    raise
                last, retry_after = err, err.retry_after_s
            if attempt + 1 < self.upload_attempts:
                self._wait(attempt, retry_after)
        assert last is not None
        raise last

    def cancel_deployment(self, deployment_id: str) -> Deployment:
        """PATCH /v12/deployments/{id}/cancel."""
        return dict(
            self._json(
                "PATCH", f"/v12/deployments/{quote(deployment_id, safe='')}/cancel", operation="cancel deployment"
            )
        )

    # -- projects -------------------------------------------------------------------------------
    def get_project(self, project_id: str | None = None) -> dict[str, Any]:
        """GET /v9/projects/{idOrName}."""
        pid = self.require_project(project_id)
        return dict(self._json("GET", f"/v9/projects/{quote(pid, safe='')}", operation="get project"))

    def promote(self, deployment_id: str, *, project_id: str | None = None) -> int:
        """POST /v10/projects/{projectId}/promote/{deploymentId}: 201 done, 202 queued."""
        pid = self.require_project(project_id)
        resp = self.request(
            "POST",
            f"/v10/projects/{quote(pid, safe='')}/promote/{quote(deployment_id, safe='')}",
            operation=f"promote {deployment_id}",
        )
        return resp.status_code

    def rollback(self, deployment_id: str, *, description: str | None = None, project_id: str | None = None) -> int:
        """POST /v1/projects/{projectId}/rollback/{deploymentId}: point production back at a deployment."""
        pid = self.require_project(project_id)
        resp = self.request(
            "POST",
            f"/v1/projects/{quote(pid, safe='')}/rollback/{quote(deployment_id, safe='')}",
            operation=f"roll back to {deployment_id}",
            params={"description": description},
        )
        return resp.status_code
