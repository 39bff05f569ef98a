"""``aikinklab-ops promote DEPLOYMENT``: make a READY deployment the production one."""

from __future__ import annotations

import argparse
import time
from typing import Any

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.commands._vercel_common import inspector_url, make_client, positive_seconds
from aikinklab_ops.deploy import DeploySettings, promote
from aikinklab_ops.report import CheckResult, Report, Status


def register(sub: Any) -> None:
    p = sub.add_parser(
        "promote",
        help="point production at a READY deployment",
        description="Point production at DEPLOYMENT (id or URL). Already-current is success; a queued promote is "
        "followed until it finishes. A preview deployment is rebuilt for production only with --rebuild.",
    )
    p.add_argument("deployment", metavar="DEPLOYMENT", help="deployment id (dpl_…) or URL")
    p.add_argument("--rebuild", action="store_true", help="allow rebuilding a preview deployment for production")
    p.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="wait at most this long (default: deploy.timeout_s)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    t0 = time.monotonic()
    settings = DeploySettings.from_config(ctx.config)
    timeout = positive_seconds(args.timeout, "--timeout") or settings.timeout_s
    client = make_client(ctx)
    result = promote(
        client,
        args.deployment,
        rebuild=args.rebuild,
        timeout_s=timeout,
        poll=settings.poll,
        project_name=settings.project_name,
        log=ctx.log,
    )
    details = {
        "deployment_id": result.deployment_id,
        "url": result.url,
        "previous_deployment_id": result.previous_deployment_id,
        "outcome": result.outcome,
        "new_deployment_id": result.new_deployment_id,
    }
    check = CheckResult("promote", Status.PASS if result.ok else Status.FAIL, result.message, details)
    serving = result.new_deployment_id or result.deployment_id
    outputs = {
        "deployment-id": serving,
        "url": result.url,
        "inspector-url": inspector_url(client, serving),
        "environment": "production",
        "previous-deployment-id": result.previous_deployment_id or "",
        "outcome": result.outcome,
    }
    return Report("promote", (check,), target="production", duration_s=time.monotonic() - t0, outputs=outputs)
