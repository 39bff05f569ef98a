"""``incident open|update|resolve``: the runbook's incident steps from a terminal or a workflow.

The output is the incident report (one check per channel) plus the message that was sent, so
the job summary shows stakeholders exactly what the on-call received.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.errors import InputError, UsageError
from aikinklab_ops.github.issues import IssueTracker
from aikinklab_ops.incident import (
    Incident,
    IncidentSettings,
    Severity,
    build_incident_settings,
    build_tracker,
    findings,
    open_incident,
    resolve_incident,
    update_incident,
)
from aikinklab_ops.incident.reports import load_report
from aikinklab_ops.incident.store import check_key
from aikinklab_ops.report.formats import render_annotations, render_markdown, render_text


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(f"{err.message.split(': ', 1)[-1]}; {err.hint}") from None


def _positive_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of milliseconds, e.g. 800, found {text!r}")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser("incident", help="open, update or resolve a production incident")
    cmds = parser.add_subparsers(dest="incident_command", metavar="ACTION", required=True)

    op = cmds.add_parser("open", help="open an incident (or update the open one with the same key) and alert")
    op.add_argument("--key", help="one incident per key; a rerun updates instead of duplicating")
    op.add_argument("--severity", type=_severity, help="P0 (site down) .. P3 (cosmetic)")
    op.add_argument("--title", help="what is wrong, in one line")
    op.add_argument("--impact", help="what users notice (default: the severity's meaning)")
    op.add_argument("--status", default="Investigating", help="Investigating, Identified, Fixing, Monitoring")
    op.add_argument("--eta", help="when it should be fixed")
    op.add_argument("--from-report", metavar="REPORT.json", help="classify a verify/monitor JSON report instead")
    op.add_argument("--baseline-p95-ms", type=_positive_ms, help="the site's normal p95, for the '50%% slower' rule")
    op.add_argument("--force", action="store_true", help="alert again even within the update cadence")
    op.set_defaults(handler=run_open)

    up = cmds.add_parser("update", help="post an INCIDENT UPDATE to the open incident")
    up.add_argument("--key", required=True)
    up.add_argument("--status", required=True, help="Identified, Fixing, Monitoring, ...")
    up.add_argument("--impact")
    up.add_argument("--eta")
    up.add_argument("--severity", type=_severity, help="re-classify (relabels the issue)")
    up.set_defaults(handler=run_update)

    rs = cmds.add_parser("resolve", help="post INCIDENT RESOLVED and close the incident")
    rs.add_argument("--key", required=True)
    rs.add_argument("--resolution", required=True, help="what was done")
    rs.add_argument("--root-cause", required=True)
    rs.add_argument("--prevention", required=True, help="steps against a recurrence")
    rs.set_defaults(handler=run_resolve)


def incident_context(ctx: CommandContext) -> tuple[IncidentSettings, IssueTracker | None]:
    """The incident settings and, with GitHub credentials, the issue tracker (else: local files)."""
    settings = build_incident_settings(ctx.config, cwd=ctx.cwd)
    creds = ctx.run.credentials
    tracker = build_tracker(
        settings, token=creds.github_token, repository=creds.github_repository, api_url=creds.github_api_url
    )
    return settings, tracker


def _context(ctx: CommandContext) -> tuple[IncidentSettings, IssueTracker | None]:
    settings, tracker = incident_context(ctx)
    if tracker is None:
        ctx.log(f"no GITHUB_TOKEN/GITHUB_REPOSITORY: incidents are kept as files in {settings.local_dir}")
    return settings, tracker


def _github_format(args: argparse.Namespace, ctx: CommandContext) -> bool:
    """The CLI's own rule (``--format``, else github under Actions): a Document's text is printed as is,
    so the ``::error::``/``::warning::`` annotations the contract promises must be in it."""
    return (getattr(args, "format", None) or ("github" if ctx.run.github_actions else "text")) == "github"


def _document(incident: Incident, *, annotations: bool = False, github_is_external: bool = False) -> Document:
    """``github_is_external``: for update/resolve a failed GitHub record is exit 3 (docs/incidents.md);
    during open it is exit 1, because the incident was kept in a local file instead."""
    report = incident.to_report()
    data = {
        **report.to_dict(),
        "incident": {
            "key": incident.key,
            "severity": incident.severity.value,
            "action": incident.action,
            "state": incident.state,
            "location": incident.location,
            "number": incident.number,
            "subject": incident.message.subject,
            "message": incident.message.text,
        },
    }
    text = (render_annotations(report) if annotations else "") + incident.message.text + "\n" + render_text(report)
    markdown = incident.message.text + "\n" + render_markdown(report)
    outputs = {"ok": "true" if report.ok else "false", **report.outputs}
    code = 0 if report.ok else 1
    if github_is_external and any(o.channel == "github" and o.status.failing for o in incident.outcomes):
        code = 3
    return Document(data, text, exit_code=code, outputs=outputs, markdown=markdown)


def _key_from_report(kind: str, target: str | None) -> str:
    host = urlsplit(target).hostname if target and "://" in target else (target or "site")
    # An IPv6 or non-ASCII host ("::1", "bücher.example") has characters a key may not hold.
    key = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{kind}-{host or 'site'}").strip("-._")
    return key[:100] or "report"


def run_open(args: argparse.Namespace, ctx: CommandContext) -> Document:
    if args.from_report:
        report = load_report(ctx.cwd / Path(args.from_report))
        found = findings(report, baseline_p95_ms=args.baseline_p95_ms)
        if not found:
            text = f"no incident: every check of the {report.kind} report passed"
            return Document({"ok": True, "incident": None, "reason": text}, text, outputs={"ok": "true"})
        worst = found[0]
        severity = args.severity or worst.severity
        key = args.key or _key_from_report(report.kind, report.target)
        title = args.title or f"{report.target or report.kind}: {worst.reason}"
        impact = args.impact or "; ".join(f.reason for f in found[:3])
        details: Any = {f.check: f"{f.severity.value}: {f.reason}" for f in found}
    else:
        missing = [
            flag
            for flag, value in (("--key", args.key), ("--severity", args.severity), ("--title", args.title))
            if not value
        ]
        if missing:
            raise UsageError(
                f"incident open: {', '.join(missing)} required",
                hint="give --key K --severity P0..P3 --title TEXT, or --from-report REPORT.json",
            )
        severity, key, title = args.severity, args.key, args.title
        impact = args.impact or severity.meaning
        details = None
    check_key(key)
    settings, tracker = _context(ctx)
    incident = open_incident(
        settings,
        key=key,
        severity=severity,
        title=title,
        impact=impact,
        status=args.status,
        eta=args.eta,
        details=details,
        github=tracker,
        force=args.force,
    )
    return _document(incident, annotations=_github_format(args, ctx))


def run_update(args: argparse.Namespace, ctx: CommandContext) -> Document:
    settings, tracker = _context(ctx)
    incident = update_incident(
        settings,
        key=args.key,
        status=args.status,
        impact=args.impact,
        eta=args.eta,
        severity=args.severity,
        github=tracker,
    )
    return _document(incident, annotations=_github_format(args, ctx), github_is_external=True)


def run_resolve(args: argparse.Namespace, ctx: CommandContext) -> Document:
    settings, tracker = _context(ctx)
    incident = resolve_incident(
        settings,
        key=args.key,
        resolution=args.resolution,
        root_cause=args.root_cause,
        prevention=args.prevention,
        github=tracker,
    )
    return _document(incident, annotations=_github_format(args, ctx), github_is_external=True)
