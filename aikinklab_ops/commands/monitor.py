"""``monitor``: watch production for a window, keep the SLA history, raise or resolve the incident."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aikinklab_ops.backup import BackupSettings, backup_status
from aikinklab_ops.commands import CommandContext, input_file
from aikinklab_ops.commands.backup import store_for
from aikinklab_ops.commands.incident import incident_context
from aikinklab_ops.errors import UsageError
from aikinklab_ops.http import make_session
from aikinklab_ops.monitor import build_monitor_settings, parse_duration, run_monitor
from aikinklab_ops.monitor.core import BackupCheck
from aikinklab_ops.report import CheckResult, Report
from aikinklab_ops.secrets import url_secrets


def _duration(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return parse_duration(text, where=flag)
        except UsageError as err:
            raise argparse.ArgumentTypeError(f"{err.message} ({err.hint})") from None

    return parse


def register(sub: Any) -> None:
    parser = sub.add_parser("monitor", help="probe production for a window and judge the SLA (uptime, p95, errors)")
    parser.add_argument("--url", help="the site (default: monitor.url, else environments.production.url)")
    parser.add_argument("--duration", type=_duration("--duration"), help="how long to watch: 30s, 5m, 1h (default 5m)")
    parser.add_argument("--interval", type=_duration("--interval"), help="time between probe rounds (default 30s)")
    parser.add_argument("--history", metavar="FILE", help="the JSON-lines history (default monitor.history)")
    parser.add_argument("--no-incident", action="store_true", help="judge and report only; open or resolve nothing")
    parser.add_argument("--no-backup", action="store_true", help="skip the backup RPO check (monitor.check_backup)")
    parser.add_argument(
        "--ca-bundle", type=Path, metavar="PATH", help="trust this PEM CA bundle instead of the system store"
    )
    parser.set_defaults(handler=run)


def _backup_check(ctx: CommandContext) -> BackupCheck:
    """``backup status`` as the monitor's ``backup-rpo`` check.

    Local archives always count; with GitHub credentials the published releases count too,
    because a scheduled runner starts empty and its backups live in Releases.
    """

    def check() -> CheckResult:
        settings = BackupSettings.from_config(ctx.config)
        folder = Path(settings.output_dir)
        folder = folder if folder.is_absolute() else ctx.cwd / folder
        creds = ctx.run.credentials
        remote = None
        if creds.github_token and creds.github_repository:
            remote = store_for(ctx, settings).list_backups(settings.tag_prefix)
        report = backup_status(folder, rpo_hours=settings.rpo_hours, remote=remote)
        first = report.checks[0]
        return CheckResult("backup-rpo", first.status, first.summary, first.details, first.duration_s)

    return check


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    cfg = ctx.config
    settings = build_monitor_settings(
        cfg, cwd=ctx.cwd, url=args.url, duration_s=args.duration, interval_s=args.interval, history=args.history
    )
    for secret in url_secrets(settings.url):  # a preview's bypass token in --url must not reach a log
        ctx.redactor.add(secret)
    inc = None
    tracker = None
    if settings.incidents and not args.no_incident:
        inc, tracker = incident_context(ctx)
    check_backup = bool(cfg.get("monitor.check_backup", True)) and not args.no_backup
    session = None
    bundle = input_file(args.ca_bundle, "--ca-bundle", ctx.cwd, hint="pass an existing PEM file")
    if bundle is not None:
        session = make_session(timeout=settings.timeout_s, retries=0, verify=str(bundle))
    result = run_monitor(
        settings,
        session=session,
        incident_settings=inc,
        github=tracker,
        backup_check=_backup_check(ctx) if check_backup else None,
        progress=ctx.progress(),
        log=ctx.log,
    )
    return result.report
