"""``create_backup``: collect, hash, stream, verify, and only then put the archive in place.

Everything is built in a hidden staging folder inside the output folder (same filesystem, so the
final rename is atomic). The archive gets its final name only after a full verification — the
same restore drill ``backup verify`` runs — succeeded; anything that goes wrong, including Ctrl-C,
removes the staging folder, so an interrupted run leaves nothing that looks like a backup.

Encrypted archives are verified through an extra one-time recipient whose private key lives only
in memory for the length of the run: that is the only way to read back what was written without
the operator's private key. The extra stanza in the age header is harmless once the key is gone.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from aikinklab_ops import __version__
from aikinklab_ops.backup import archive as ar
from aikinklab_ops.backup.envfiles import redact_env
from aikinklab_ops.backup.gitrepo import RepoInfo, create_bundle, inspect_repo
from aikinklab_ops.backup.settings import BackupSettings
from aikinklab_ops.backup.vercel_env import fetch_env_names
from aikinklab_ops.backup.verify import verify_backup
from aikinklab_ops.config.context import Credentials
from aikinklab_ops.errors import CheckFailed, InputError, OpsError, UsageError
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import Report

STAGING_PREFIX = ".aikinklab-backup-staging-"
VERCEL_ENV_MEMBER = "config/.vercel/aikinklab-env-names.json"


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    sha256: str
    size: int
    type: str
    manifest: dict[str, Any]
    verification: Report
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def _utf8(name: str) -> bool:
    """Whether a file name can be stored: the manifest and the tar names are UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(name: str) -> str:
    """A file name fit to print, undecodable bytes as escapes (``\\xff``)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _collect_tree(
    root: Path, rel: str, kind: str, prefix: str, skipped: list[str], *, strip: bool = False
) -> list[tuple[str, str, Path]]:
    """(member, kind, source) for regular files under root/rel; links and specials are reported.

    Member names are relative to the repository (``assets/public/logo.png``), or to ``rel`` itself
    with ``strip`` (``monitoring/uptime.json`` whatever the folder is called).
    """
    out: list[tuple[str, str, Path]] = []
    base = root / rel
    if base.is_symlink():
        skipped.append(rel)
        return out
    if not base.exists():
        return out
    if base.is_file():
        if not _utf8(rel):
            skipped.append(rel)
            return out
        return [(f"{prefix}{base.name if strip else rel}", kind, base)]
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                skipped.append((here / d).relative_to(root).as_posix())
                dirnames.remove(d)
        dirnames.sort()
        for name in sorted(filenames):
            p = here / name
            relp = p.relative_to(root).as_posix()
            if p.is_symlink() or not p.is_file() or not _utf8(relp):
                skipped.append(relp)
                continue
            out.append((f"{prefix}{p.relative_to(base).as_posix() if strip else relp}", kind, p))
    return out


def _config_sources(root: Path, settings: BackupSettings, skipped: list[str]) -> list[tuple[str, str, Path]]:
    found: dict[str, tuple[str, str, Path]] = {}
    for pattern in settings.config_files:
        pat = pattern.rstrip("/")
        if ".." in Path(pat).parts or Path(pat).is_absolute():
            raise InputError(f"backup.config_files: {pattern!r} must be a path inside the repository")
        matches = sorted(root.glob(pat)) if any(c in pat for c in "*?[") else [root / pat]
        for m in matches:
            for item in _collect_tree(root, m.relative_to(root).as_posix(), "config", "config/", skipped):
                found.setdefault(item[0], item)
    return list(found.values())


def _env_sources(
    root: Path, settings: BackupSettings, config: list[tuple[str, str, Path]], skipped: list[str]
) -> list[Path]:
    """Environment files: the ``env_files`` matches, and any file a config folder or glob brought in
    whose name looks like one (``config/.env.production``); only a file named in ``config_files``
    itself (``.env.example``) stays a plain config file. Removes those from ``config``."""
    out: dict[str, Path] = {}
    names = [PurePosixPath(p).name for p in settings.env_files]
    named = {p.rstrip("/") for p in settings.config_files}
    for item in list(config):
        rel = item[2].relative_to(root).as_posix()
        if rel not in named and any(fnmatch.fnmatchcase(item[2].name, n) for n in names):
            config.remove(item)
            out[item[0]] = item[2]
    config_members = {m for m, _, _ in config}
    for pattern in settings.env_files:
        for p in sorted(root.glob(pattern)):
            member = f"config/{p.relative_to(root).as_posix()}"
            if member in config_members or member in out:
                continue
            if p.is_symlink() or (p.is_file() and not _utf8(member)):
                skipped.append(p.relative_to(root).as_posix())
            elif p.is_file():  # a folder such as a Python virtualenv called .env is no env file
                out[member] = p
    return list(out.values())


def create_backup(
    kind: str,
    *,
    repo: Path,
    output_dir: Path,
    settings: BackupSettings | None = None,
    recipients: Sequence[str] = (),
    credentials: Credentials | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Make one verified backup archive of ``kind`` (full, code or config) in ``output_dir``."""
    if kind not in ar.TYPES:
        raise UsageError(f"unknown backup type {kind!r}", hint="use one of: full, code, config")
    settings = settings or BackupSettings()
    progress = progress or NullProgress()
    recipients = tuple(dict.fromkeys([*settings.encrypt_to, *recipients]))
    ar.parse_recipients(recipients)  # a typo in a key fails now, not after the packing
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    info = inspect_repo(repo.resolve(), need_history=kind in ("full", "code"), need_worktree=kind != "code")
    output_dir = output_dir.resolve()
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"{output_dir}: exists and is not a folder", hint="pass another --output DIR")
    output_dir.mkdir(parents=True, exist_ok=True)
    encrypted = bool(recipients)
    name = ar.archive_name(kind, created, info.head, encrypted=encrypted)
    final = output_dir / name
    if final.exists():
        raise InputError(f"{final}: already exists", hint="wait a second and run again; backups are never overwritten")
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=output_dir))
    try:
        return _create_in(kind, info, settings, recipients, credentials, progress, created, staging, final)
    except OSError as err:
        # Disk full, a folder turned read-only, a file vanished: the operator's environment, not a bug.
        where = err.filename or output_dir
        raise InputError(
            f"{where}: {err.strerror or err}; no backup was written",
            hint=f"check free space and permissions of {output_dir} and the repository, then run again",
        ) from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _create_in(
    kind: str,
    info: RepoInfo,
    settings: BackupSettings,
    recipients: tuple[str, ...],
    credentials: Credentials | None,
    progress: Progress,
    created: datetime,
    staging: Path,
    final: Path,
) -> BackupResult:
    root = info.root
    notes: list[str] = []
    warnings: list[str] = []
    skipped: list[str] = []
    sources: list[tuple[str, str, Path]] = []
    memory: list[ar.Entry] = []
    encrypted = bool(recipients)
    counts: dict[str, int] = {}

    if kind in ("full", "code"):
        progress.message(f"bundling {len(info.branches)} branches and {len(info.tags)} tags of {root}")
        bundle = staging / "repository.bundle"
        create_bundle(info, bundle, staging)
        sources.append((ar.BUNDLE_MEMBER, "code", bundle))
        counts["branches"], counts["tags"] = len(info.branches), len(info.tags)

    if kind in ("full", "config"):
        config = _config_sources(root, settings, skipped)
        envs = _env_sources(root, settings, config, skipped)
        sources += config
        for p in envs:
            member = f"config/{p.relative_to(root).as_posix()}"
            raw = p.read_bytes()
            if encrypted:
                memory.append(ar.entry_from_bytes(member, "env", raw, p.stat().st_mtime))
            else:
                text, _keys = redact_env(raw.decode("utf-8", errors="replace"))
                memory.append(ar.entry_from_bytes(member, "env", text.encode("utf-8"), p.stat().st_mtime))
        counts["config_files"], counts["env_files"] = len(config), len(envs)
        if envs:
            notes.append(
                f"{len(envs)} environment file(s) kept whole (archive is encrypted)"
                if encrypted
                else f"{len(envs)} environment file(s) with values removed, keys kept (encrypt to keep values)"
            )
        try:
            names = fetch_env_names(credentials or Credentials())
        except OpsError as err:
            names = None
            warnings.append(f"Vercel environment variable names not captured: {err.message}")
        if names is not None:
            body = json.dumps({"source": "vercel", "env": names}, indent=2, ensure_ascii=False).encode("utf-8")
            memory.append(ar.entry_from_bytes(VERCEL_ENV_MEMBER, "vercel", body, created.timestamp()))
            counts["vercel_env"] = len(names)
        elif not warnings:
            notes.append("no Vercel credentials: the project's environment variable names were not captured")

    if kind == "full":
        n_assets = 0
        for d in settings.assets_dirs:
            got = _collect_tree(root, d.rstrip("/"), "assets", "assets/", skipped)
            n_assets += len(got)
            sources += got
            if not (root / d).is_dir():
                notes.append(f"assets folder {d}/ not found; no assets from it")
        counts["assets"] = n_assets
        if settings.monitoring_dir:
            mon = _collect_tree(
                root, settings.monitoring_dir.rstrip("/"), "monitoring", "monitoring/", skipped, strip=True
            )
            sources += mon
            counts["monitoring"] = len(mon)
            if not mon:
                notes.append(f"monitoring folder {settings.monitoring_dir}/ not found or empty")
    if skipped:
        warnings.append(
            f"{len(skipped)} link(s), special file(s) or non-UTF-8 name(s) not backed up: "
            + ", ".join(_shown(n) for n in skipped[:10])
        )

    for member, _, _ in sources:
        bad = ar.safe_member_name(member)
        if bad:
            raise InputError(f"{member}: cannot be stored safely ({bad})")

    total = sum(p.stat().st_size for _, _, p in sources)
    progress.start("hashing", total=total, unit="B")
    entries = [ar.entry_from_file(m, k, p, progress) for m, k, p in sources] + memory
    progress.finish()
    entries.sort(key=lambda e: e.path)
    seen: set[str] = set()
    for e in entries:
        if e.path in seen:
            raise InputError(f"{e.path}: two files would have the same name in the archive")
        seen.add(e.path)

    manifest: dict[str, Any] = {
        "format": ar.FORMAT_VERSION,
        "tool": "aikinklab-ops",
        "tool_version": __version__,
        "type": kind,
        "created_at": created.isoformat(timespec="seconds"),
        "encrypted": encrypted,
        "env_values": "kept" if encrypted else "removed",
        "repository": {
            "path": root.name,
            "remote": info.remote_url,
            "commit": info.head,
            "default_branch": info.default_branch,
            "refs": dict(info.refs) if kind in ("full", "code") else {},
        },
        "files": [e.manifest_row() for e in entries],
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")

    tmp = staging / (final.name + ".partial")
    size_in = total + sum(e.size for e in memory)
    progress.start("packing", total=size_in, unit="B")
    verify_ids: list[Any] = []
    with open(tmp, "wb") as fh:
        sink = ar.HashingWriter(fh)
        out: AbstractContextManager[Any] = nullcontext(sink)
        if encrypted:
            import pyrage

            one_time = pyrage.x25519.Identity.generate()
            verify_ids.append(one_time)
            out = ar.encrypting_sink(sink, [*ar.parse_recipients(recipients), one_time.to_public()])
        with out as target:
            ar.write_tar_gz(
                target,
                manifest_bytes,
                entries,
                level=settings.compression_level,
                progress=progress,
                created=created.timestamp(),
            )
        fh.flush()
        os.fsync(fh.fileno())
    progress.finish()
    digest = sink.sha.hexdigest()

    progress.message("verifying the archive (restore drill)")
    report = verify_backup(tmp, identities=verify_ids, expected_sha256=digest, display_name=final.name)
    verify_ids.clear()
    if not report.ok:
        failed = [c for c in report.checks if c.status.failing]
        raise CheckFailed(
            f"the new archive failed verification ({'; '.join(c.summary for c in failed)}); nothing was kept",
            hint="run again; if it fails again, report the details (backup verify shows them)",
        )
    side = staging / (final.name + ".sha256")
    side.write_text(ar.sha256_line(digest, final.name), encoding="utf-8")
    # The checksum first: stopped in between, an orphan .sha256 is left, not an archive that looks
    # like an unverified backup.
    os.replace(side, final.with_name(final.name + ".sha256"))
    os.replace(tmp, final)
    return BackupResult(
        archive=final,
        sha256=digest,
        size=sink.size,
        type=kind,
        manifest=manifest,
        verification=report,
        notes=tuple(notes),
        warnings=tuple(warnings),
        counts=counts,
    )
