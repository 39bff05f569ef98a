"""``gate``: run the pre-deploy checklist; exit 1 if any gate fails.

Flags that name input files replace the config's list for that input (repeat them for several
files); relative paths on the command line are relative to the working directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aikinklab_ops.commands import CommandContext
from aikinklab_ops.errors import UsageError
from aikinklab_ops.gates import GATE_NAMES, GateInputs, run_gates, select_gates
from aikinklab_ops.github.checks import GitHubChecks
from aikinklab_ops.github.deployments import read_event
from aikinklab_ops.report import Report


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "gate",
        help="run the pre-deploy checklist (tests, security audit, performance, migrations, flags, monitoring)",
        description="Run the pre-deploy gates. Exit 0 when every gate passes (or warns/skips), 1 when one fails.",
    )
    p.add_argument(
        "--only", metavar="NAME,...", action="append", help=f"run only these gates ({', '.join(GATE_NAMES)})"
    )
    p.add_argument("--skip", metavar="NAME,...", action="append", help="do not run these gates")
    p.add_argument("--sha", help="the commit whose GitHub checks must be green (default: the PR head, else GITHUB_SHA)")
    p.add_argument("--env", dest="environment", metavar="ENV", help="the environment about to be deployed to")
    p.add_argument("--junit", metavar="PATH", action="append", type=Path, help="a JUnit XML report (repeatable)")
    p.add_argument(
        "--audit-report", metavar="PATH", action="append", type=Path, help="`npm audit --json` output (repeatable)"
    )
    p.add_argument(
        "--lighthouse",
        metavar="PATH",
        action="append",
        type=Path,
        help="a Lighthouse JSON report or LHCI folder (repeatable)",
    )
    p.add_argument(
        "--vitals",
        metavar="PATH",
        action="append",
        type=Path,
        help="a field Web Vitals JSON with p75 values (repeatable)",
    )
    p.add_argument("--flags", metavar="PATH", type=Path, help="the feature flags file")
    p.add_argument(
        "--monitoring",
        metavar="PATH",
        type=Path,
        help="a YAML file with monitor:/alerts: to check instead of the config",
    )
    p.set_defaults(handler=run)


def _opt(values: list[Path] | None) -> tuple[Path, ...] | None:
    return None if values is None else tuple(values)


def default_sha(ctx: CommandContext) -> str | None:
    """The commit whose checks count: on pull requests the head commit, not GITHUB_SHA.

    For ``pull_request`` events GITHUB_SHA is a merge commit nobody's checks report on; the
    check runs belong to the pull request's head, which only the event payload names.
    """
    run = ctx.run
    if run.github_event_name in ("pull_request", "pull_request_target"):
        pr = read_event(run.github_event_path).get("pull_request")
        head = pr.get("head") if isinstance(pr, dict) else None
        sha = head.get("sha") if isinstance(head, dict) else None
        if isinstance(sha, str) and sha:
            return sha
    return run.github_sha


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    only = [n for chunk in args.only or () for n in _names(chunk)] or None
    skip = [n for chunk in args.skip or () for n in _names(chunk)] or None
    if args.only is not None and not only:
        raise UsageError("--only: no gate named", hint="e.g. --only tests,security-audit")
    cfg = ctx.config
    inputs = GateInputs(
        cwd=ctx.cwd,
        junit=_opt(args.junit),
        audit_reports=_opt(args.audit_report),
        lighthouse=_opt(args.lighthouse),
        vitals=_opt(args.vitals),
        flags=args.flags,
        monitoring=args.monitoring,
        sha=args.sha or default_sha(ctx),
        environment=args.environment,
        own_job=ctx.run.github_job,
    )
    # Validate the names before touching GitHub, so a typo costs nothing.
    names = select_gates(cfg.get("gates.checks") or GATE_NAMES, only, skip)
    github = None
    if "tests" in names:
        timeout = float(cfg.get("gates.tests.github.request_timeout_s", 30))
        github = GitHubChecks.from_credentials(ctx.run.credentials, timeout_s=timeout)
    return run_gates(cfg, inputs, only=only, skip=skip, github=github, log=ctx.log)
