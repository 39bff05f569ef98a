"""``backup create|verify|list|prune|status``: the runbook's daily backup, and the proof it restores."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aikinklab_ops.backup import BackupSettings, backup_status, create_backup, list_local, prune, verify_backup
from aikinklab_ops.backup.archive import load_identities
from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.errors import ExternalError, OpsError
from aikinklab_ops.github.releases import ReleaseStore
from aikinklab_ops.progress import _human
from aikinklab_ops.report import CheckResult, Report, Status


def register(sub: Any) -> None:
    parser = sub.add_parser("backup", help="create, verify, list, prune backups; check their age against the RPO")
    cmds = parser.add_subparsers(dest="backup_command", metavar="ACTION", required=True)

    create = cmds.add_parser("create", help="make a verified backup archive (optionally publish it as a release)")
    create.add_argument("type", choices=("full", "code", "config"), help="what to back up")
    create.add_argument("--repo", metavar="DIR", help="the app's repository (default: the working directory)")
    create.add_argument("--output", metavar="DIR", help="where archives go (default: backup.output_dir)")
    create.add_argument("--publish", action="store_true", help="also publish it as a GitHub release (prerelease)")
    create.add_argument(
        "--encrypt-to",
        metavar="RECIPIENT",
        action="append",
        default=[],
        help="age recipient (age1…) to encrypt to; repeatable; env files are then kept whole",
    )
    create.set_defaults(handler=run_create)

    verify = cmds.add_parser("verify", help="check an archive end to end, cloning its repository (a restore drill)")
    verify.add_argument("archive", metavar="ARCHIVE")
    verify.add_argument("--identity", metavar="FILE", action="append", default=[], help="age key file, if encrypted")
    verify.set_defaults(handler=run_verify)

    lst = cmds.add_parser("list", help="list local backups (and with --remote, backup releases)")
    lst.add_argument("--remote", action="store_true", help="also list backup releases on GitHub")
    lst.add_argument("--output", metavar="DIR", help="the backup folder (default: backup.output_dir)")
    lst.set_defaults(handler=run_list)

    prn = cmds.add_parser("prune", help="remove backups past their retention (never the newest verified ones)")
    prn.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    prn.add_argument("--output", metavar="DIR", help="the backup folder (default: backup.output_dir)")
    prn.add_argument("--local-only", action="store_true", help="leave GitHub releases alone")
    prn.set_defaults(handler=run_prune)

    st = cmds.add_parser("status", help="age of the newest verified backup against the RPO (sla.rpo_hours)")
    st.add_argument("--remote", action="store_true", help="also consider backup releases on GitHub")
    st.add_argument("--output", metavar="DIR", help="the backup folder (default: backup.output_dir)")
    st.set_defaults(handler=run_status)


def _settings(ctx: CommandContext) -> BackupSettings:
    return BackupSettings.from_config(ctx.config)


def resolve_path(ctx: CommandContext, value: str) -> Path:
    """A path from the command line or the config, relative to the command's working directory."""
    path = Path(value)
    return path if path.is_absolute() else ctx.cwd / path


def _dir(ctx: CommandContext, value: str | None, settings: BackupSettings) -> Path:
    return resolve_path(ctx, value or settings.output_dir)


def store_for(ctx: CommandContext, settings: BackupSettings) -> ReleaseStore:
    creds = ctx.run.credentials
    gh = settings.github
    return ReleaseStore(
        creds.github_token,
        creds.github_repository,
        api_url=creds.github_api_url,
        timeout_s=gh.timeout_s,
        seconds_between_writes=gh.seconds_between_writes,
        max_rate_limit_wait_s=gh.max_rate_limit_wait_s,
        upload_attempts=gh.upload_attempts,
    )


def run_create(args: argparse.Namespace, ctx: CommandContext) -> Report:
    settings = _settings(ctx)
    started = datetime.now(timezone.utc)
    repo = resolve_path(ctx, args.repo) if args.repo else ctx.cwd
    store = store_for(ctx, settings) if args.publish else None  # fail on missing credentials before any work
    result = create_backup(
        args.type,
        repo=repo,
        output_dir=_dir(ctx, args.output, settings),
        settings=settings,
        recipients=args.encrypt_to,
        credentials=ctx.run.credentials,
        progress=ctx.progress(),
        now=started,
    )
    for note in result.notes:
        ctx.log(f"note: {note}")
    for warning in result.warnings:
        ctx.log(f"warning: {warning}")
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in result.counts.items())
    checks = [
        CheckResult(
            "contents",
            Status.WARN if result.warnings else Status.PASS,
            f"{result.type} backup: {counts}" + (f"; {'; '.join(result.warnings)}" if result.warnings else ""),
            {"counts": result.counts, "notes": list(result.notes), "warnings": list(result.warnings)},
        ),
        *result.verification.checks,
        CheckResult(
            "archive",
            Status.PASS,
            f"{result.archive} ({_human(result.size, 'B')}) sha256 {result.sha256}",
            {
                "path": str(result.archive),
                "sha256": result.sha256,
                "size": result.size,
                "encrypted": bool(result.manifest.get("encrypted")),
            },
        ),
    ]
    tag = ""
    if store is not None:
        base = settings.tag_prefix + started.strftime("%Y-%m-%d-%H%M%S")
        body = (
            f"aikinklab-ops {result.type} backup of {result.manifest['repository']['commit']} "
            f"made {result.manifest['created_at']}.\n\nRestore: `aikinklab-ops restore --tag TAG --into DIR`"
        )
        try:
            published = store.publish(
                result.archive,
                result.sha256,
                tag=base,
                commit=result.manifest["repository"]["commit"],
                body=body,
                part_size=settings.part_size,
                progress=ctx.progress(),
            )
        except OpsError as err:
            raise ExternalError(
                f"{err.message}; the verified local archive {result.archive} is kept", hint=err.hint
            ) from err
        tag = published.tag
        checks.append(
            CheckResult("publish", Status.PASS, f"published release {tag}", {"tag": tag, "url": published.html_url})
        )
    else:
        checks.append(CheckResult("publish", Status.SKIP, "not published (pass --publish to upload it as a release)"))
    return Report(
        "backup",
        tuple(checks),
        target=str(result.archive),
        started_at=started,
        duration_s=(datetime.now(timezone.utc) - started).total_seconds(),
        outputs={"archive": str(result.archive), "sha256": result.sha256, "tag": tag},
    )


def run_verify(args: argparse.Namespace, ctx: CommandContext) -> Report:
    ids = load_identities([resolve_path(ctx, p) for p in args.identity])
    return verify_backup(resolve_path(ctx, args.archive), identities=ids, progress=ctx.progress())


def run_list(args: argparse.Namespace, ctx: CommandContext) -> Document:
    settings = _settings(ctx)
    directory = _dir(ctx, args.output, settings)
    local = list_local(directory)
    rows: list[dict[str, Any]] = [
        {
            "where": "local",
            "name": b.path.name,
            "type": b.type,
            "created_at": b.created_at.isoformat(timespec="seconds"),
            "size": b.size,
            "encrypted": b.encrypted,
            "verified": b.verified,
        }
        for b in local
    ]
    if args.remote:
        for r in store_for(ctx, settings).list_backups(settings.tag_prefix):
            rows.append(
                {
                    "where": "github",
                    "name": r.tag,
                    "type": r.archive_name.split("_")[2] if r.archive_name else "?",
                    "created_at": r.created_at.isoformat(timespec="seconds"),
                    "size": sum(a.size for a in r.assets),
                    "encrypted": bool(r.archive_name and r.archive_name.endswith(".age")),
                    "verified": r.complete,
                }
            )
    lines = [f"backups in {directory}" + (" and on GitHub" if args.remote else "")]
    if not rows:
        lines.append("  none")
    for row in rows:
        mark = "ok " if row["verified"] else "?? "
        size = _human(row["size"], "B")
        lines.append(f"  {mark}{row['where']:<6} {row['created_at']}  {row['type']:<6} {size:>10}  {row['name']}")
    if any(not r["verified"] for r in rows):
        lines.append("  (?? = no checksum beside it / not published: not a verified backup)")
    return Document({"directory": str(directory), "backups": rows}, "\n".join(lines))


def run_prune(args: argparse.Namespace, ctx: CommandContext) -> Document:
    settings = _settings(ctx)
    directory = _dir(ctx, args.output, settings)
    creds = ctx.run.credentials
    store = None
    if not args.local_only and creds.github_token and creds.github_repository:
        store = store_for(ctx, settings)
    result = prune(
        directory, retention=settings.retention, store=store, tag_prefix=settings.tag_prefix, dry_run=args.dry_run
    )
    verb = "would remove" if result.dry_run else "removed"
    lines = [f"{verb} {len(result.removed)} backup(s), kept {result.kept}"]
    lines += [f"  {i.where:<6} {i.name}  ({i.reason})" for i in result.removed]
    if store is None and not args.local_only:
        lines.append("  (GitHub releases not pruned: GITHUB_TOKEN / GITHUB_REPOSITORY not set)")
    data = {
        "dry_run": result.dry_run,
        "kept": result.kept,
        "removed": [
            {
                "where": i.where,
                "name": i.name,
                "created_at": i.created_at.isoformat(timespec="seconds"),
                "reason": i.reason,
            }
            for i in result.removed
        ],
    }
    return Document(data, "\n".join(lines), outputs={"removed": str(len(result.removed))})


def run_status(args: argparse.Namespace, ctx: CommandContext) -> Report:
    settings = _settings(ctx)
    remote = store_for(ctx, settings).list_backups(settings.tag_prefix) if args.remote else None
    return backup_status(_dir(ctx, args.output, settings), rpo_hours=settings.rpo_hours, remote=remote)
