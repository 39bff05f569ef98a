"""``restore ARCHIVE | --tag TAG``: the repository, configuration and assets back, timed against the RTO."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from aikinklab_ops.backup import BackupSettings, restore
from aikinklab_ops.backup.archive import load_identities
from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.commands.backup import resolve_path, store_for
from aikinklab_ops.errors import UsageError


def register(sub: Any) -> None:
    parser = sub.add_parser("restore", help="restore a backup archive or backup release into a folder")
    parser.add_argument("archive", metavar="ARCHIVE", nargs="?", help="a backup archive (.tar.gz or .tar.gz.age)")
    parser.add_argument("--tag", metavar="TAG", help="restore from this backup release instead (downloaded)")
    parser.add_argument("--into", metavar="DIR", help="target folder (default: ./restore)")
    parser.add_argument("--identity", metavar="FILE", action="append", default=[], help="age key file (encrypted)")
    parser.add_argument("--force", action="store_true", help="replace files that already exist in the target")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> Document:
    if bool(args.archive) == bool(args.tag):
        raise UsageError(
            "restore needs exactly one of ARCHIVE or --tag TAG", hint="aikinklab-ops restore FILE --into DIR"
        )
    settings = BackupSettings.from_config(ctx.config)
    into = resolve_path(ctx, args.into or "restore")
    ids = load_identities([resolve_path(ctx, p) for p in args.identity])
    started = time.monotonic()
    if args.tag:
        # Downloads go next to the target (same disk), not to a /tmp that may be too small.
        into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".aikinklab-download-", dir=into if args.tag else None) as tmp:
        expected = None
        if args.tag:
            archive, expected = store_for(ctx, settings).download(args.tag, Path(tmp), progress=ctx.progress())
        else:
            archive = resolve_path(ctx, args.archive)
        result = restore(
            archive,
            into=into,
            identities=ids,
            force=args.force,
            expected_sha256=expected,
            rto_minutes=settings.rto_minutes,
            started=started,
            progress=ctx.progress(),
        )
    minutes = result.elapsed_s / 60
    verdict = "within" if result.within_rto else "OVER"
    lines = [f"restored {args.tag or archive.name} into {result.into}"]
    if result.repository:
        lines.append(
            f"  repository: {result.repository} ({len(result.branches)} branches, {len(result.tags)} tags, "
            f"on {result.head})"
        )
    lines.append(f"  files: {len(result.files)} under {result.into}/config, assets, monitoring")
    lines.append(f"  took {result.elapsed_s:.1f}s ({minutes:.1f} min): {verdict} the RTO of {result.rto_minutes:g} min")
    lines.append("next steps:")
    lines += [f"  {i}. {step}" for i, step in enumerate(result.next_steps, start=1)]
    data = {
        "ok": True,
        "into": str(result.into),
        "repository": str(result.repository) if result.repository else None,
        "branches": list(result.branches),
        "tags": list(result.tags),
        "head": result.head,
        "files": list(result.files),
        "elapsed_s": round(result.elapsed_s, 3),
        "rto_minutes": result.rto_minutes,
        "within_rto": result.within_rto,
        "next_steps": list(result.next_steps),
    }
    return Document(
        data,
        "\n".join(lines),
        outputs={
            "into": str(result.into),
            "elapsed_s": f"{result.elapsed_s:.1f}",
            "within_rto": str(result.within_rto).lower(),
        },
    )
