"""``pipeline``: gate -> deploy -> verify, and on a failed production verification roll back,
verify again and open the incident."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aikinklab_ops.commands import CommandContext, Document, input_file
from aikinklab_ops.deploy import DeploySettings, environments_from_config, resolve_environment
from aikinklab_ops.pipeline import run_pipeline
from aikinklab_ops.pipeline.wiring import CommandSteps


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pipeline",
        help="the runbook end to end: gate, deploy, verify, roll back production on failure, open the incident",
        description="Run the pre-deploy gates, deploy, verify the environment. When verification of a protected "
        "environment (production) fails, roll back to the previous good deployment, verify again and open an "
        "incident (P1 when the rollback holds, P0 when it does not). Other environments fail without touching "
        "production. Exit 0 all good, 1 a gate/verification failed, 2 bad input, 3 a service failed.",
    )
    p.add_argument("--env", metavar="ENV", help="environment (default: from the GitHub event, as for deploy)")
    p.add_argument("--dry-run", action="store_true", help="run the gates and show what would be deployed where")
    p.add_argument("--path", default=".", metavar="DIR", help="the app's folder (default: the current folder)")
    p.add_argument("--prebuilt", action="store_true", help="deploy DIR/.vercel/output from `vercel build`")
    p.add_argument("--ref", metavar="REF", help="git ref recorded with the deployment")
    p.add_argument("--sha", metavar="SHA", help="the commit being released (default: GITHUB_SHA / HEAD)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="wait at most this long for READY")
    p.add_argument("--ca-bundle", type=Path, metavar="PATH", help="trust this CA bundle when verifying")
    p.add_argument("--only-gate", metavar="NAME,...", action="append", help="run only these gates")
    p.add_argument("--skip-gate", metavar="NAME,...", action="append", help="do not run these gates")
    for flag, what in (
        ("--junit", "a JUnit XML report"),
        ("--audit-report", "`npm audit --json` output"),
        ("--lighthouse", "a Lighthouse report or LHCI folder"),
        ("--vitals", "a field Web Vitals JSON"),
    ):
        p.add_argument(flag, metavar="PATH", action="append", type=Path, help=f"gate input: {what} (repeatable)")
    p.add_argument("--flags", metavar="PATH", type=Path, help="gate input: the feature flags file")
    p.add_argument("--monitoring", metavar="PATH", type=Path, help="gate input: monitoring config to check")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> Document:
    cfg = ctx.config
    resolved = resolve_environment(
        environments_from_config(cfg),
        override=args.env,
        event_name=ctx.run.github_event_name,
        ref=ctx.run.github_ref,
        head_ref=ctx.run.github_head_ref,
        default=DeploySettings.from_config(cfg).default_environment,
    )
    env = resolved.environment
    protected = bool(cfg.get(f"environments.{env.name}.protected", env.is_production))
    ca_bundle = input_file(args.ca_bundle, "--ca-bundle", ctx.cwd, hint="pass an existing PEM file")
    ctx.log(f"pipeline: {env.name} ({resolved.reason}){'; protected: rolls back on failure' if protected else ''}")
    steps = CommandSteps(ctx, args, env, ca_bundle=ca_bundle)
    steps.preflight()
    where = f"{(ctx.cwd / args.path).resolve()} to {env.name} ({env.vercel_target}"
    where += f", aliases {', '.join(env.aliases)})" if env.aliases else ")"
    outcome = run_pipeline(steps, environment=env.name, protected=protected, dry_run=args.dry_run, plan=where)
    # The exit code can say more than the report's ok: 3 when an outside service failed.
    return Document.of_report(outcome.report, outcome.exit_code)
