"""``restore``: from an archive back to a working clone, the configuration and the assets.

Nothing is written until the whole archive has been read once and found sound: the archive's
checksum, every member's name and type (no absolute paths, no ``..``, no links, no devices), every
checksum, a manifest that accounts for every member, and no existing file in the way unless
``force``. Only then is it extracted — into a staging folder inside the target, re-checked on
the way, and moved into place — so a refused archive leaves the target exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aikinklab_ops.backup import archive as ar
from aikinklab_ops.backup.create import VERCEL_ENV_MEMBER
from aikinklab_ops.backup.gitrepo import clone_bundle
from aikinklab_ops.backup.verify import archive_checksum_check
from aikinklab_ops.errors import InputError
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import Status

STAGING_PREFIX = ".aikinklab-restore-staging-"


@dataclass(frozen=True)
class RestoreResult:
    into: Path
    repository: Path | None
    branches: tuple[str, ...]
    tags: tuple[str, ...]
    head: str | None
    files: tuple[str, ...]
    elapsed_s: float
    rto_minutes: float
    manifest: dict[str, Any] = field(repr=False)
    next_steps: tuple[str, ...] = ()

    @property
    def within_rto(self) -> bool:
        return self.elapsed_s <= self.rto_minutes * 60


def _destination(into: Path, member: str) -> Path:
    # The target mirrors the archive's layout: config/…, assets/… and monitoring/… under ``into``.
    if member.startswith(ar.LAYOUT_FOLDERS):
        return into / member
    raise InputError(f"archive member {member!r} has no place in a restore", hint="this is not an aikinklab backup")


def _inside(base: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True


def _blocked(into: Path, plan: dict[str, Path], repo_dest: Path | None) -> list[str]:
    """Paths that even ``force`` must not replace, found before anything is written."""
    out: list[str] = []
    if repo_dest is not None and (repo_dest.is_symlink() or (repo_dest.exists() and not repo_dest.is_dir())):
        out.append(str(repo_dest))
    for dest in plan.values():
        if dest.is_dir() and not dest.is_symlink():
            out.append(str(dest))
            continue
        parent = dest.parent
        while parent != into and parent != parent.parent:
            if (parent.exists() or parent.is_symlink()) and not parent.is_dir():  # a file, or a dangling link
                out.append(str(parent))
                break
            parent = parent.parent
    return list(dict.fromkeys(out))


def restore(
    archive: Path,
    *,
    into: Path,
    identities: Sequence[Any] = (),
    force: bool = False,
    expected_sha256: str | None = None,
    rto_minutes: float = 60,
    started: float | None = None,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore ``archive`` under ``into``; ``started`` (a ``time.monotonic()``) counts a download in the RTO."""
    t0 = started if started is not None else time.monotonic()
    progress = progress or NullProgress()
    if not archive.is_file():
        raise InputError(f"{archive}: no such archive", hint="see 'aikinklab-ops backup list' (or --remote)")
    if into.exists() and not into.is_dir():
        raise InputError(f"{into}: exists and is not a folder", hint="pass another --into DIR")

    checksum = archive_checksum_check(archive, expected_sha256, archive.name)
    if checksum.status is Status.FAIL:
        raise InputError(
            f"{archive}: {checksum.summary}; nothing restored", hint="use another backup or download it again"
        )
    progress.message(f"checking every member of {archive.name}")
    try:
        first = ar.scan(archive, identities)
    except InputError as err:
        raise InputError(f"{err.message}; nothing restored", hint=err.hint) from err
    if not first.ok:
        problems = first.problems()
        raise InputError(
            f"{archive}: refused, nothing restored: {'; '.join(problems[:5])}"
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""),
            hint="the archive was damaged or tampered with; use another backup (backup list)",
        )
    manifest = first.manifest
    rows = [r for r in manifest["files"] if r["path"] != ar.BUNDLE_MEMBER]
    has_bundle = len(rows) != len(manifest["files"])
    plan = {r["path"]: _destination(into, r["path"]) for r in rows}

    repo_dest = into / "repository"
    blocked = _blocked(into, plan, repo_dest if has_bundle else None)
    if blocked:
        raise InputError(
            f"{into}: {len(blocked)} path(s) in the way that --force does not replace (a file where the backup "
            f"has a folder, a folder where it has a file, or a link), nothing restored: {', '.join(blocked[:5])}",
            hint="move them out of the way, or restore into an empty folder with --into DIR",
        )
    conflicts = [str(d) for d in plan.values() if d.exists() or d.is_symlink()]
    if has_bundle and repo_dest.is_dir() and any(repo_dest.iterdir()):
        conflicts.insert(0, str(repo_dest))
    if conflicts and not force:
        raise InputError(
            f"{into}: {len(conflicts)} file(s) already there, nothing restored: {', '.join(conflicts[:5])}",
            hint="restore into an empty folder with --into DIR, or pass --force to replace them",
        )
    into.mkdir(parents=True, exist_ok=True)
    for dest in plan.values():
        # A symlinked folder in the target must not carry a forced restore outside it.
        parent = dest.parent
        while not parent.exists():
            parent = parent.parent
        if not _inside(into, parent):
            raise InputError(f"{dest}: a folder on the way is a link leading outside {into}; nothing restored")

    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=into))
    try:
        cloned = _extract_and_place(archive, identities, manifest, plan, has_bundle, staging, repo_dest, progress)
    except OSError as err:
        raise InputError(
            f"{err.filename or into}: {err.strerror or err}; the restore stopped part-way",
            hint=f"check free space and permissions under {into}, then restore again with --force",
        ) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    elapsed = time.monotonic() - t0
    return RestoreResult(
        into=into,
        repository=repo_dest if has_bundle else None,
        branches=tuple(cloned["branches"]),
        tags=tuple(cloned["tags"]),
        head=cloned["head"],
        files=tuple(sorted(plan)),
        elapsed_s=elapsed,
        rto_minutes=rto_minutes,
        manifest=manifest,
        next_steps=tuple(next_steps(into, manifest, has_bundle)),
    )


def _extract_and_place(
    archive: Path,
    identities: Sequence[Any],
    manifest: dict[str, Any],
    plan: dict[str, Path],
    has_bundle: bool,
    staging: Path,
    repo_dest: Path,
    progress: Progress,
) -> dict[str, Any]:
    """Second pass: extract into staging (re-checking every byte), clone, then move into place."""
    extracted = staging / "x"
    progress.start("extracting", total=sum(int(r["size"]) for r in manifest["files"]), unit="B")
    second = ar.scan(archive, identities, extract_to=extracted, progress=progress)
    progress.finish()
    if not second.ok:
        raise InputError(f"{archive}: changed while being restored ({'; '.join(second.problems()[:3])})")
    cloned: dict[str, Any] = {"branches": [], "tags": [], "head": None}
    if has_bundle:
        progress.message("cloning the repository with every branch and tag")
        repo_info = manifest.get("repository") or {}
        cloned = clone_bundle(
            extracted / ar.BUNDLE_MEMBER,
            staging / "repository",
            default_branch=repo_info.get("default_branch"),
            remote_url=repo_info.get("remote"),
        )
        if repo_dest.exists():
            shutil.rmtree(repo_dest)
        os.replace(staging / "repository", repo_dest)
    for member, dest in plan.items():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
            dest.unlink()
        elif dest.is_dir():
            raise InputError(f"{dest}: is a folder where the backup has a file; nothing more restored")
        os.replace(extracted / member, dest)
    return cloned


def next_steps(into: Path, manifest: dict[str, Any], has_bundle: bool) -> list[str]:
    """The runbook's recovery steps after the files are back: install, environment, deploy, verify."""
    paths = {r["path"] for r in manifest["files"]}
    repo = into / "repository"
    steps = []
    if has_bundle:
        if "config/pnpm-lock.yaml" in paths:
            install = "pnpm install --frozen-lockfile"
        elif "config/yarn.lock" in paths:
            install = "yarn install --frozen-lockfile"
        elif "config/bun.lockb" in paths:
            install = "bun install --frozen-lockfile"
        else:
            install = "npm ci"
        steps.append(f"install: cd {repo} && {install}")
    envs = sorted(r["path"] for r in manifest["files"] if r.get("kind") == "env")
    if envs and manifest.get("env_values") == "kept":
        steps.append(f"environment: copy {', '.join(str(into / e) for e in envs)} into the repository")
    elif envs:
        steps.append(
            f"environment: the keys are in {', '.join(str(into / e) for e in envs)}; fill in the values from the "
            "secret store (this backup holds no values)"
        )
    elif "config/.env.example" in paths:
        steps.append(f"environment: cp {into / 'config/.env.example'} .env.local and fill in the values")
    if any(r.get("kind") == "vercel" for r in manifest["files"]):
        steps.append(f"Vercel: the project's variable names and targets are in {into / VERCEL_ENV_MEMBER}")
    if has_bundle and manifest.get("repository", {}).get("remote"):
        steps.append(f"if the GitHub repository was lost: cd {repo} && git push --all origin && git push --tags origin")
    steps.append("deploy: aikinklab-ops deploy (or vercel deploy --prod), then aikinklab-ops verify")
    return steps
