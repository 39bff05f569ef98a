"""``deploy()``: files -> create (uploading only what Vercel is missing) -> wait -> aliases.

Free of CLI concerns: it reports through ``progress`` and ``log`` and returns a ``DeployResult``;
a deployment that fails (ERROR, CANCELED, BLOCKED, timeout, a failed alias) is a result with
``ok=False``, while bad input and an unreachable API raise (``InputError``, ``ExternalError``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aikinklab_ops.deploy.environment import EnvironmentTarget
from aikinklab_ops.deploy.files import FileSet, collect_files
from aikinklab_ops.deploy.git import GitMetadata
from aikinklab_ops.deploy.settings import DeploySettings
from aikinklab_ops.deploy.upload import upload_files
from aikinklab_ops.deploy.wait import WaitOutcome, build_log_tail, wait_for_deployment
from aikinklab_ops.errors import ExternalError, OpsError
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.vercel.client import REQUEST_KEY, Deployment, VercelClient, new_request_key
from aikinklab_ops.vercel.errors import VercelApiError

ENV_META = "aikinklabOpsEnvironment"
MISSING_ROUNDS = 3


def deployment_url(dep: Mapping[str, Any]) -> str:
    """The URL that serves a deployment, the one ``verify`` should check.

    Vercel gives a bare host name in ``url`` (``https://`` is added). The local sandbox adds
    ``sandboxUrl``, the loopback ``http://`` URL that really serves the deployment, since its
    ``*.vercel.app`` host resolves nowhere; when present it wins. A ``url`` that already carries a
    scheme is kept as it is.
    """
    sandbox = dep.get("sandboxUrl")
    if isinstance(sandbox, str) and sandbox.startswith(("http://", "https://")):
        return sandbox.rstrip("/")
    url = str(dep.get("url") or "")
    if not url:
        return ""
    if url.startswith(("http://", "https://")):
        return url.rstrip("/")
    return "https://" + url.rstrip("/")


@dataclass(frozen=True)
class DeployRequest:
    path: Path
    environment: EnvironmentTarget
    prebuilt: bool | None = None
    git: GitMetadata | None = None
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployResult:
    ok: bool
    environment: str
    target: str  # production, preview, or the custom environment's slug
    deployment_id: str
    url: str
    inspector_url: str | None
    state: str
    aliases: tuple[str, ...] = ()
    files_total: int = 0
    files_uploaded: int = 0
    bytes_total: int = 0
    bytes_uploaded: int = 0
    prebuilt: bool = False
    error_code: str | None = None
    error_message: str | None = None
    log_lines: tuple[str, ...] = ()
    timed_out: bool = False
    canceled: bool = False
    duration_s: float = 0.0

    @property
    def summary(self) -> str:
        if self.ok:
            text = f"{self.deployment_id} READY on {self.environment} ({self.target}): {self.url}"
            return text + (f"; aliases: {', '.join(self.aliases)}" if self.aliases else "")
        why = ": ".join(x for x in (self.error_code, self.error_message) if x) or self.state
        return f"{self.deployment_id or 'deployment'} failed on {self.environment} ({self.state}): {why}"

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deployment_id": self.deployment_id,
            "url": self.url,
            "inspector_url": self.inspector_url,
            "environment": self.environment,
            "target": self.target,
            "state": self.state,
            "aliases": list(self.aliases),
            "files_total": self.files_total,
            "files_uploaded": self.files_uploaded,
            "bytes_total": self.bytes_total,
            "bytes_uploaded": self.bytes_uploaded,
            "prebuilt": self.prebuilt,
        }
        if not self.ok:
            out.update(
                error_code=self.error_code,
                error_message=self.error_message,
                timed_out=self.timed_out,
                canceled=self.canceled,
                build_log=list(self.log_lines),
            )
        return out


def target_label(env: EnvironmentTarget) -> str:
    if env.custom_environment:
        return env.custom_environment
    return "production" if env.is_production else "preview"


def build_create_body(
    settings: DeploySettings,
    project_id: str,
    files: FileSet,
    env: EnvironmentTarget,
    *,
    key: str,
    git: GitMetadata | None = None,
    meta: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``POST /v13/deployments`` body (only fields the published API defines)."""
    body: dict[str, Any] = {
        "name": settings.project_name,
        "project": project_id,
        "files": files.manifest(),
        "meta": {**{k: str(v) for k, v in (meta or {}).items()}, REQUEST_KEY: key, ENV_META: env.name},
    }
    if env.custom_environment:
        body["customEnvironmentSlugOrId"] = env.custom_environment
    elif env.is_production:
        body["target"] = "production"
    # A preview leaves ``target`` out: the API's documented way to ask for one.
    if git is not None:
        git_meta = git.to_api()
        if git_meta:
            body["gitMetadata"] = git_meta
    if settings.root_directory:
        body["projectSettings"] = {"rootDirectory": settings.root_directory}
    return body


def deploy(
    settings: DeploySettings,
    client: VercelClient,
    request: DeployRequest,
    *,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DeployResult:
    progress = progress or NullProgress()
    say = log or (lambda _text: None)
    t0 = clock()
    env = request.environment
    project_id = client.require_project()

    # 1. Files: listed, counted against Vercel's limit, hashed streaming.
    files = _collect(settings, request, progress)
    by_sha = files.by_sha()
    say(
        f"{len(files.files)} file(s), {len(by_sha)} distinct, {files.total_bytes} bytes"
        + (" (prebuilt .vercel/output)" if files.prebuilt else "")
    )

    # 2. Create; upload exactly what Vercel reports missing, then create again.
    key = new_request_key()
    body = build_create_body(settings, project_id, files, env, key=key, git=request.git, meta=request.meta)
    since_ms = int(time.time() * 1000) - 10 * 60 * 1000
    uploaded: set[str] = set()
    files_up = bytes_up = 0
    dep: Deployment | None = None
    for _round in range(MISSING_ROUNDS):
        try:
            dep = client.create_deployment(body, since_ms=since_ms)
            break
        except VercelApiError as err:
            if err.code != "missing_files":
                raise
            missing = list(dict.fromkeys(err.missing))
            unknown = [s for s in missing if s not in by_sha]
            if unknown or not missing:
                raise VercelApiError(
                    "Vercel: create deployment reported missing files "
                    + (f"this deployment does not contain ({', '.join(unknown[:3])})" if unknown else "without a list"),
                    status=err.status,
                    code=err.code,
                    hint="run the deploy again; if it persists, report it with the deployment's inspector URL",
                ) from err
            again = [s for s in missing if s in uploaded]
            if again and len(again) == len(missing):
                raise VercelApiError(
                    f"Vercel: {len(again)} uploaded file(s) are still reported missing",
                    status=err.status,
                    code=err.code,
                    hint="check the upload answers above; run the deploy again",
                ) from err
            say(f"Vercel is missing {len(missing)} of {len(by_sha)} distinct file(s): uploading them")
            stats = upload_files(client, missing, by_sha, concurrency=settings.concurrency, progress=progress)
            uploaded.update(missing)
            files_up += stats.files
            bytes_up += stats.bytes
    if dep is None:
        raise ExternalError("Vercel: create deployment kept reporting missing files", hint="run the deploy again")

    dep_id = str(dep["id"])
    inspector = dep.get("inspectorUrl") or None
    say(f"created {dep_id} for {env.name}: {deployment_url(dep)}" + (f" (inspect: {inspector})" if inspector else ""))

    def result(outcome_dep: Deployment, state: str, **kw: Any) -> DeployResult:
        return DeployResult(
            environment=env.name,
            target=target_label(env),
            deployment_id=dep_id,
            url=deployment_url(outcome_dep) or deployment_url(dep or {}),
            inspector_url=outcome_dep.get("inspectorUrl") or inspector,
            state=state,
            files_total=len(files.files),
            files_uploaded=files_up,
            bytes_total=files.total_bytes,
            bytes_uploaded=bytes_up,
            prebuilt=files.prebuilt,
            duration_s=clock() - t0,
            **kw,
        )

    # 3. Wait for the build.
    progress.message(f"{dep_id}: waiting for the build (up to {settings.timeout_s:.0f}s)")
    try:
        outcome = wait_for_deployment(
            client,
            dep,
            require_alias=env.is_production,
            timeout_s=settings.timeout_s,
            poll=settings.poll,
            on_state=lambda state, _d: progress.message(f"{dep_id}: {state}"),
            sleep=sleep,
            clock=clock,
        )
    except OpsError as err:
        err.message = f"{err.message} (while waiting on {dep_id}; its state is unknown: {inspector or dep_id})"
        raise
    except KeyboardInterrupt:
        # Stopped by the operator (or a cancelled workflow): like a timeout, never leave a build
        # running that could go live after the deploy was abandoned.
        if settings.cancel_on_timeout:
            try:
                client.cancel_deployment(dep_id)
                say(f"interrupted: canceled {dep_id} so it cannot go live")
            except OpsError as err:
                say(f"interrupted: {dep_id} could NOT be canceled ({err.message}); it may still go live")
        else:
            say(f"interrupted: {dep_id} was not canceled (deploy.cancel_on_timeout is off); it may still go live")
        raise
    failure = _failure(client, settings, outcome, dep_id)
    if failure is not None:
        return result(outcome.deployment, outcome.state, ok=False, **failure)

    # 4. Aliases from the config, all or none.
    assigned, alias_failure = _assign_aliases(client, dep_id, env.aliases, say)
    if alias_failure is not None:
        return result(outcome.deployment, outcome.state, ok=False, **alias_failure)
    served = outcome.deployment.get("alias") if env.is_production else None
    final_aliases = tuple(dict.fromkeys([*assigned, *(str(a) for a in (served or []))]))
    return result(outcome.deployment, "READY", ok=True, aliases=final_aliases)


def _collect(settings: DeploySettings, request: DeployRequest, progress: Progress) -> FileSet:
    progress.start("hashing files", unit="B")
    files = collect_files(
        request.path,
        prebuilt=request.prebuilt,
        include_env_files=settings.include_env_files,
        extra_ignore=settings.ignore,
        workers=settings.hash_workers,
        max_files=settings.max_files,
        on_hashed=lambda n: progress.advance(n),
    )
    progress.finish(f"{len(files.files)} file(s)")
    return files


def _failure(
    client: VercelClient, settings: DeploySettings, outcome: WaitOutcome, dep_id: str
) -> dict[str, Any] | None:
    dep = outcome.deployment
    if outcome.timed_out:
        canceled = False
        if settings.cancel_on_timeout:
            try:
                client.cancel_deployment(dep_id)
                canceled = True
            except OpsError:
                canceled = False
        return {
            "error_code": "TIMEOUT",
            "error_message": f"not READY after {settings.timeout_s:.0f}s (last state {outcome.state})"
            + ("; canceled so it cannot go live later" if canceled else "; NOT canceled, it may still go live"),
            "timed_out": True,
            "canceled": canceled,
            "log_lines": build_log_tail(client, dep_id, settings.log_lines),
        }
    if outcome.state != "READY":
        return {
            "error_code": str(dep.get("errorCode") or outcome.state),
            "error_message": str(dep.get("errorMessage") or f"the deployment ended {outcome.state}"),
            "log_lines": build_log_tail(client, dep_id, settings.log_lines),
        }
    if outcome.not_promoted:
        return {
            "error_code": "NOT_PROMOTED",
            "error_message": f"{dep_id} is READY but not serving production ({outcome.not_promoted}); "
            f"run `aikinklab-ops promote {dep_id}` to make it live",
        }
    alias_error = outcome.alias_error
    if alias_error is not None:
        return {
            "error_code": str(alias_error.get("code") or "ALIAS_ERROR"),
            "error_message": "production domains were not assigned: " + str(alias_error.get("message") or ""),
        }
    return None


def _assign_aliases(
    client: VercelClient, dep_id: str, aliases: tuple[str, ...], say: Callable[[str], None]
) -> tuple[list[str], dict[str, Any] | None]:
    done: list[tuple[str, str | None]] = []
    for alias in aliases:
        try:
            answer = client.assign_alias(dep_id, alias)
        except OpsError as err:
            reverted, stuck = _revert(client, done)
            message = f"alias {alias} failed: {err.message}"
            if err.hint:
                message += f" (fix: {err.hint})"
            if reverted:
                message += f"; put back {', '.join(reverted)} on the deployments they served before"
            if stuck:
                message += f"; {', '.join(stuck)} could not be put back and now point at {dep_id}"
            return [], {"error_code": getattr(err, "code", None) or "ALIAS_FAILED", "error_message": message}
        done.append((alias, answer.get("oldDeploymentId") or None))
        say(f"alias {alias} -> {dep_id}")
    return [a for a, _ in done], None


def _revert(client: VercelClient, done: list[tuple[str, str | None]]) -> tuple[list[str], list[str]]:
    reverted: list[str] = []
    stuck: list[str] = []
    for alias, old in reversed(done):
        if not old:
            stuck.append(alias)
            continue
        try:
            client.assign_alias(old, alias)
            reverted.append(alias)
        except OpsError:
            stuck.append(alias)
    return reverted, stuck
