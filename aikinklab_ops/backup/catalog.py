"""What backups exist, which may go, and whether the newest good one is recent enough (the RPO).

A local archive counts as *verified* when its ``.sha256`` sits beside it: ``create_backup`` writes
that file only after the archive passed its restore drill. ``backup_status`` goes further for the
newest one and re-hashes it, because a backup that rotted on disk is not a backup. A release
counts when it is published and holds the archive and its checksum (publishing comes last).
Pruning never touches the newest ``keep_min`` verified backups of each type, whatever their age, so a
stalled backup job can never prune the last good copies away.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aikinklab_ops.backup import archive as ar
from aikinklab_ops.backup.create import STAGING_PREFIX
from aikinklab_ops.backup.settings import Retention
from aikinklab_ops.errors import InputError
from aikinklab_ops.github.releases import ReleaseStore, RemoteBackup
from aikinklab_ops.report import CheckResult, Report, Status

STALE_STAGING = timedelta(days=1)
# A config backup holds no code: it cannot meet the promise of at most a day of lost work.
RPO_TYPES = ("full", "code")


@dataclass(frozen=True)
class LocalBackup:
    path: Path
    type: str
    created_at: datetime
    encrypted: bool
    size: int
    verified: bool

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".sha256")


def list_local(directory: Path) -> list[LocalBackup]:
    """Archives in ``directory``, newest first (by the time in the name, which is UTC creation time)."""
    if not directory.is_dir():
        return []
    out = []
    for p in directory.iterdir():
        parsed = ar.parse_name(p.name)
        if parsed is None or not p.is_file():
            continue
        side = p.with_name(p.name + ".sha256")
        out.append(LocalBackup(p, parsed.type, parsed.created, parsed.encrypted, p.stat().st_size, side.is_file()))
    return sorted(out, key=lambda b: (b.created_at, b.path.name), reverse=True)


@dataclass(frozen=True)
class PruneItem:
    where: str  # "local" | "github"
    name: str
    created_at: datetime
    reason: str


@dataclass(frozen=True)
class PruneResult:
    dry_run: bool
    removed: tuple[PruneItem, ...]
    kept: int


def _select(items: Sequence[tuple[datetime, bool, str]], keep_min: int, max_age: timedelta, now: datetime) -> list[int]:
    """Indexes (into newest-first ``items`` of (created, verified, type)) that may go.

    The newest ``keep_min`` verified backups are kept for each type: fresh config backups must not
    make room for pruning the last backups that hold the code.
    """
    protected: dict[str, int] = {}
    doomed = []
    for i, (created, verified, kind) in enumerate(items):
        if verified and protected.get(kind, 0) < keep_min:
            protected[kind] = protected.get(kind, 0) + 1
            continue
        if now - created > max_age:
            doomed.append(i)
    return doomed


def _remote_type(r: RemoteBackup) -> str:
    parsed = ar.parse_name(r.archive_name or "")
    return parsed.type if parsed else "?"


def prune(
    directory: Path | None,
    *,
    retention: Retention,
    store: ReleaseStore | None = None,
    tag_prefix: str = "backup-",
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneResult:
    """Remove local archives older than ``local_days`` and releases (with tags) older than ``remote_days``."""
    now = now or datetime.now(timezone.utc)
    removed: list[PruneItem] = []
    kept = 0
    if directory is not None:
        local = list_local(directory)
        doomed = set(
            _select(
                [(b.created_at, b.verified, b.type) for b in local],
                retention.keep_min,
                timedelta(days=retention.local_days),
                now,
            )
        )
        for i, b in enumerate(local):
            if i not in doomed:
                kept += 1
                continue
            removed.append(PruneItem("local", b.path.name, b.created_at, f"older than {retention.local_days:g} days"))
            if not dry_run:
                b.path.unlink(missing_ok=True)
                b.sidecar.unlink(missing_ok=True)
        if directory.is_dir():
            for p in directory.glob(STAGING_PREFIX + "*"):
                age = time.time() - p.stat().st_mtime
                if p.is_dir() and age > STALE_STAGING.total_seconds():
                    removed.append(
                        PruneItem("local", p.name, now - timedelta(seconds=age), "leftover of an interrupted run")
                    )
                    if not dry_run:
                        shutil.rmtree(p, ignore_errors=True)
    if store is not None:
        remote = store.list_backups(tag_prefix)
        doomed = set(
            _select(
                [(r.created_at, r.complete, _remote_type(r)) for r in remote],
                retention.keep_min,
                timedelta(days=retention.remote_days),
                now,
            )
        )
        for i, r in enumerate(remote):
            if i not in doomed:
                kept += 1
                continue
            removed.append(PruneItem("github", r.tag, r.created_at, f"older than {retention.remote_days:g} days"))
            if not dry_run:
                store.delete(r)
    return PruneResult(dry_run, tuple(removed), kept)


def backup_status(
    directory: Path | None,
    *,
    rpo_hours: float,
    remote: Sequence[RemoteBackup] | None = None,
    now: datetime | None = None,
) -> Report:
    """A Report (kind ``backup-status``): is the newest good backup younger than the RPO?

    Only backups that hold the repository (full, code) count. Fails when there is none or it is too
    old; ``outputs`` carry ``newest`` and ``age_hours`` for a monitor or a workflow to alert on.
    Local archives are re-hashed against their ``.sha256`` from the newest down until one holds.
    """
    t0 = time.monotonic()
    now = now or datetime.now(timezone.utc)
    candidates: list[tuple[datetime, str, str]] = []  # (created, where, name)
    rotten: list[str] = []
    if directory is not None:
        for b in list_local(directory):
            if not b.verified or b.type not in RPO_TYPES:
                continue
            try:
                good = ar.sha256_file(b.path) == ar.read_sha256_file(b.sidecar)
            except (OSError, InputError):
                good = False
            if good:
                candidates.append((b.created_at, "local", str(b.path)))
                break
            rotten.append(b.path.name)
    for r in remote or ():
        if r.complete and _remote_type(r) in RPO_TYPES:
            candidates.append((r.created_at, "github", r.tag))
            break
    limit = timedelta(hours=rpo_hours)
    details: dict[str, object] = {"rpo_hours": rpo_hours}
    if rotten:
        details["checksum_mismatch"] = rotten
    if not candidates:
        check = CheckResult(
            "rpo",
            Status.FAIL,
            "no verified backup found (full or code; a config backup holds no code)"
            + (f" ({len(rotten)} damaged)" if rotten else ""),
            details,
            time.monotonic() - t0,
        )
        return Report("backup-status", (check,), duration_s=time.monotonic() - t0, outputs={"age_hours": ""})
    created, where, name = max(candidates)
    age = now - created
    hours = age.total_seconds() / 3600
    details.update(
        {
            "newest": name,
            "where": where,
            "created_at": created.isoformat(timespec="seconds"),
            "age_hours": round(hours, 2),
        }
    )
    ok = age <= limit
    summary = f"newest verified backup is {hours:.1f} h old ({where}: {name}); RPO is {rpo_hours:g} h"
    if not ok:
        summary += " — run 'aikinklab-ops backup create full --publish' now"
    check = CheckResult("rpo", Status.PASS if ok else Status.FAIL, summary, details, time.monotonic() - t0)
    return Report(
        "backup-status",
        (check,),
        target=name,
        duration_s=time.monotonic() - t0,
        outputs={"newest": name, "age_hours": f"{hours:.2f}"},
    )
