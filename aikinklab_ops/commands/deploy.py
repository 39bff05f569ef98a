"""``aikinklab-ops deploy``: upload the app to Vercel, wait for READY, assign aliases, record on GitHub."""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.commands._vercel_common import make_client, positive_seconds, run_url
from aikinklab_ops.deploy import (
    DeployRequest,
    DeployResult,
    DeploySettings,
    deploy,
    environments_from_config,
    gather_git_metadata,
    resolve_environment,
)
from aikinklab_ops.deploy.environment import PR_EVENTS
from aikinklab_ops.errors import OpsError, UsageError
from aikinklab_ops.github.deployments import GitHubDeployment, GitHubDeployments, preview_comment, pull_request_number
from aikinklab_ops.report import CheckResult, Report, Status


def register(sub: Any) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy the app to Vercel and wait until it is READY",
        description="Upload the app (or its prebuilt .vercel/output) to Vercel, wait for the build, assign the "
        "environment's aliases. The environment comes from --env, else the GitHub event (push to main -> "
        "production, develop -> staging, pull request -> preview), else deploy.default_environment (preview).",
    )
    p.add_argument("--path", default=".", metavar="DIR", help="the app's folder (default: the current folder)")
    p.add_argument("--prebuilt", action="store_true", help="deploy DIR/.vercel/output from `vercel build` (required)")
    p.add_argument("--env", metavar="ENV", help="environment to deploy to (production, staging, preview, ...)")
    p.add_argument("--ref", metavar="REF", help="git ref recorded with the deployment (default: GITHUB_REF / HEAD)")
    p.add_argument("--sha", metavar="SHA", help="commit recorded with the deployment (default: GITHUB_SHA / HEAD)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="wait at most this long for READY (default 1200)")
    p.add_argument("--concurrency", type=int, metavar="N", help="files uploaded at once (default 8)")
    p.add_argument(
        "--include-env-files", action="store_true", help="also upload .env* files (never uploaded otherwise)"
    )
    p.set_defaults(handler=run)


def build_settings(args: argparse.Namespace, ctx: CommandContext) -> DeploySettings:
    settings = DeploySettings.from_config(ctx.config)
    changes: dict[str, Any] = {}
    if positive_seconds(args.timeout, "--timeout") is not None:
        changes["timeout_s"] = float(args.timeout)
    if args.concurrency is not None:
        if not 1 <= args.concurrency <= 64:
            raise UsageError(
                f"--concurrency must be between 1 and 64, not {args.concurrency}", hint="e.g. --concurrency 8"
            )
        changes["concurrency"] = args.concurrency
    if args.include_env_files:
        changes["include_env_files"] = True
    return dataclasses.replace(settings, **changes)


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    t0 = time.monotonic()
    settings = build_settings(args, ctx)
    envs = environments_from_config(ctx.config)
    resolved = resolve_environment(
        envs,
        override=args.env,
        event_name=ctx.run.github_event_name,
        ref=ctx.run.github_ref,
        head_ref=ctx.run.github_head_ref,
        default=settings.default_environment,
    )
    env = resolved.environment
    path = (ctx.cwd / args.path).resolve()
    if not path.is_dir():
        raise UsageError(f"--path {args.path}: {path} is not a directory", hint="pass the app's folder with --path")
    client = make_client(ctx, pool_maxsize=max(32, settings.concurrency))
    ctx.log(f"deploying {path} to {env.name} ({resolved.reason})")

    creds = ctx.run.credentials
    is_pr = ctx.run.github_event_name in PR_EVENTS
    ref = args.ref or (ctx.run.github_head_ref if is_pr else None) or ctx.run.github_ref
    git = gather_git_metadata(
        path,
        sha=args.sha or ctx.run.github_sha,
        ref=ref,
        event_path=ctx.run.github_event_path,
        repository=creds.github_repository,
        server_url=ctx.run.github_server_url,
    )
    meta = {"githubRunId": ctx.run.github_run_id} if ctx.run.github_run_id else {}

    checks: list[CheckResult] = []
    gh: GitHubDeployments | None = None
    handle: GitHubDeployment | None = None
    gh_problems: list[str] = []
    log_url = run_url(ctx)
    if settings.github_deployment and creds.github_token and creds.github_repository and git.commit_sha:
        try:
            gh = GitHubDeployments(creds.github_token, creds.github_repository, api_url=creds.github_api_url)
            handle = gh.start(
                ref=git.commit_sha,
                environment=env.name,
                production=env.is_production,
                description=f"aikinklab-ops deploy to {env.name}",
                log_url=log_url,
            )
        except OpsError as err:
            gh_problems.append(str(err))
            ctx.log(f"warning: {err}")

    try:
        result = deploy(
            settings,
            client,
            DeployRequest(path=path, environment=env, prebuilt=True if args.prebuilt else None, git=git, meta=meta),
            progress=ctx.progress(),
            log=ctx.log,
        )
    except OpsError as err:
        if gh is not None and handle is not None:
            _finish(
                gh,
                handle,
                ok=False,
                description=f"deploy failed: {err.message}"[:140],
                url=None,
                log_url=log_url,
                problems=gh_problems,
                ctx=ctx,
            )
        raise

    if not result.ok:
        ctx.log(f"deploy failed: {result.error_code}: {result.error_message}")
        if result.inspector_url:
            ctx.log(f"inspect: {result.inspector_url}")
        if result.log_lines:
            ctx.log(f"build log (last {len(result.log_lines)} lines):")
            for line in result.log_lines:
                ctx.log(f"  {line}")
    else:
        ctx.log(f"deployment-id: {result.deployment_id}")
        ctx.log(f"url: {result.url}")
        if result.inspector_url:
            ctx.log(f"inspector-url: {result.inspector_url}")
        if result.aliases:
            ctx.log(f"aliases: {', '.join(result.aliases)}")

    if gh is not None and handle is not None:
        # What a person opens: the production domain, else the first alias, else the deployment.
        env_url = result.url
        if env.is_production and env.url:
            env_url = env.url
        elif env.aliases:
            env_url = f"https://{env.aliases[0]}"
        _finish(
            gh,
            handle,
            ok=result.ok,
            description=result.summary,
            url=env_url if result.ok else None,
            log_url=result.inspector_url or log_url,
            problems=gh_problems,
            ctx=ctx,
        )
    if gh is not None and is_pr and settings.pr_comment:
        number = pull_request_number(ctx.run.github_event_path, ctx.run.github_ref)
        if number is not None:
            try:
                body = preview_comment(
                    url=result.url,
                    deployment_id=result.deployment_id,
                    inspector_url=result.inspector_url,
                    sha=git.commit_sha,
                    ok=result.ok,
                )
                _cid, created = gh.upsert_pr_comment(number, body)
                ctx.log(f"{'created' if created else 'updated'} the preview comment on #{number}")
            except OpsError as err:
                gh_problems.append(str(err))
                ctx.log(f"warning: {err}")

    checks.append(_deploy_check(result))
    if gh is not None or gh_problems:
        checks.append(
            CheckResult(
                "github",
                Status.WARN if gh_problems else Status.PASS,
                "; ".join(gh_problems) if gh_problems else "GitHub deployment status recorded",
                {"problems": gh_problems} if gh_problems else {},
            )
        )
    return Report(
        kind="deploy",
        checks=tuple(checks),
        target=env.name,
        duration_s=time.monotonic() - t0,
        outputs=_outputs(result),
    )


def _finish(
    gh: GitHubDeployments,
    handle: GitHubDeployment,
    *,
    ok: bool,
    description: str,
    url: str | None,
    log_url: str | None,
    problems: list[str],
    ctx: CommandContext,
) -> None:
    try:
        gh.finish(handle, ok=ok, description=description, environment_url=url, log_url=log_url)
    except OpsError as err:
        problems.append(str(err))
        ctx.log(f"warning: {err}")


def _deploy_check(result: DeployResult) -> CheckResult:
    summary = result.summary
    if result.ok and result.inspector_url:
        summary += f" (inspect: {result.inspector_url})"
    return CheckResult(
        "deploy",
        Status.PASS if result.ok else Status.FAIL,
        summary,
        result.details(),
        result.duration_s,
        label="Deployment READY",
    )


def _outputs(result: DeployResult) -> dict[str, str]:
    return {
        "deployment-id": result.deployment_id,
        "url": result.url,
        "inspector-url": result.inspector_url or "",
        "environment": result.environment,
        "target": result.target,
        "aliases": ",".join(result.aliases),
    }
