"""``aikinklab-ops deployments list``: what is on Vercel for this project."""

from __future__ import annotations

import argparse
import itertools
from datetime import datetime, timezone
from typing import Any

from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.commands._vercel_common import make_client
from aikinklab_ops.deploy import deployment_url, environments_from_config
from aikinklab_ops.deploy.core import ENV_META
from aikinklab_ops.deploy.wait import production_id
from aikinklab_ops.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser("deployments", help="list the project's Vercel deployments")
    cmds = p.add_subparsers(dest="deployments_command", metavar="ACTION", required=True)
    ls = cmds.add_parser("list", help="newest first; the current production deployment is marked")
    ls.add_argument("--env", metavar="ENV", help="only this environment (production, staging, preview, ...)")
    ls.add_argument("--limit", type=int, default=20, metavar="N", help="at most N deployments (default 20)")
    ls.set_defaults(handler=run_list)


def _when(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return "?"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def run_list(args: argparse.Namespace, ctx: CommandContext) -> Document:
    if not 1 <= args.limit <= 1000:
        raise UsageError(f"--limit must be between 1 and 1000, not {args.limit}")
    target = None
    env_name = args.env
    if env_name:
        envs = environments_from_config(ctx.config)
        if env_name not in envs:
            raise UsageError(f"unknown environment {env_name!r}", hint="choose one of " + ", ".join(sorted(envs)))
        target = "production" if envs[env_name].is_production else None
    client = make_client(ctx)
    project = client.get_project()
    current = production_id(project)
    source = client.list_deployments(target=target, limit=min(args.limit, 100))
    if env_name and target is None:
        source = (d for d in source if (d.get("meta") or {}).get(ENV_META) == env_name)
    rows = []
    for d in itertools.islice(source, args.limit):
        uid = str(d.get("uid") or d.get("id"))
        rows.append(
            {
                "id": uid,
                "state": d.get("readyState") or d.get("state"),
                "target": d.get("target") or "preview",
                "environment": (d.get("meta") or {}).get(ENV_META),
                "url": deployment_url(d),
                "created": _when(d.get("createdAt") or d.get("created")),
                "current_production": uid == current,
                "rollback_candidate": d.get("isRollbackCandidate"),
                "inspector_url": d.get("inspectorUrl"),
            }
        )
    header = ("", "ID", "STATE", "TARGET", "CREATED", "URL")
    table: list[tuple[str, ...]] = [
        header,
        *[
            (
                "*" if r["current_production"] else "",
                str(r["id"]),
                str(r["state"]),
                str(r["target"]),
                str(r["created"]),
                str(r["url"]),
            )
            for r in rows
        ],
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    text = "\n".join(lines) + ("\n\n* current production deployment\n" if current else "\n")
    if not rows:
        text = "no deployments" + (f" for {env_name}" if env_name else "") + "\n"
    return Document(
        {"project": project.get("id"), "current_production": current, "deployments": rows},
        text,
        outputs={"current-production": current or "", "count": str(len(rows))},
    )
