"""``aikinklab-ops rollback``: point production back at an earlier deployment."""

from __future__ import annotations

import argparse
import time
from typing import Any

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.commands._vercel_common import inspector_url, make_client, positive_seconds
from aikinklab_ops.deploy import DeploySettings, rollback
from aikinklab_ops.report import CheckResult, Report, Status


def register(sub: Any) -> None:
    p = sub.add_parser(
        "rollback",
        help="point production back at an earlier deployment",
        description="Without --to, roll back to the most recent production deployment before the current one that "
        "was READY and served production. --dry-run shows the choice and changes nothing.",
    )
    p.add_argument("--to", metavar="DEPLOYMENT", help="deployment id (dpl_…) or URL to roll back to")
    p.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")
    p.add_argument("--reason", metavar="TEXT", help="why (recorded on Vercel with the rollback)")
    p.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="wait at most this long (default: deploy.timeout_s)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    t0 = time.monotonic()
    settings = DeploySettings.from_config(ctx.config)
    timeout = positive_seconds(args.timeout, "--timeout") or settings.timeout_s
    client = make_client(ctx)
    result = rollback(
        client,
        client.require_project(),
        to=args.to,
        dry_run=args.dry_run,
        reason=args.reason,
        timeout_s=timeout,
        poll=settings.poll,
        log=ctx.log,
    )
    details = {
        "from_deployment": result.from_deployment,
        "to_deployment": result.to_deployment,
        "to_url": result.to_url,
        "dry_run": result.dry_run,
        "performed": result.performed,
        "reason": result.reason,
    }
    status = Status.PASS if result.ok else Status.FAIL
    if result.ok and result.dry_run:
        status = Status.SKIP
    check = CheckResult("rollback", status, result.message, details)
    serving = result.from_deployment if result.dry_run else result.to_deployment
    outputs = {
        "deployment-id": serving or "",
        "url": result.to_url,
        "inspector-url": inspector_url(client, serving),
        "environment": "production",
        "from-deployment": result.from_deployment or "",
        "to-deployment": result.to_deployment or "",
        "dry-run": "true" if result.dry_run else "false",
    }
    return Report("rollback", (check,), target="production", duration_s=time.monotonic() - t0, outputs=outputs)
