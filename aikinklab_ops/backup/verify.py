"""``verify_backup``: a restore drill, not a header check.

Every member is read and hashed against the manifest, the manifest must account for every member
and nothing more, and the git bundle is cloned into a scratch folder and fsck'd with every ref
compared — because ``git bundle verify`` alone passes bundles that cannot be cloned.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aikinklab_ops.backup import archive as ar
from aikinklab_ops.backup.gitrepo import drill
from aikinklab_ops.errors import InputError, OpsError
from aikinklab_ops.progress import Progress
from aikinklab_ops.report import CheckResult, Report, Status


def archive_checksum_check(path: Path, expected: str | None, display: str) -> CheckResult:
    t0 = time.monotonic()
    side = path.with_name(path.name + ".sha256")
    source = "the digest computed while writing it"
    if expected is None and side.is_file():
        expected, source = ar.read_sha256_file(side), side.name
    if expected is None:
        return CheckResult(
            "archive-checksum", Status.SKIP, f"no {display}.sha256 beside the archive; members are still checked"
        )
    got = ar.sha256_file(path)
    if got != expected:
        return CheckResult(
            "archive-checksum",
            Status.FAIL,
            f"SHA-256 of {display} does not match {source}: the archive changed after it was made",
            {"expected": expected, "actual": got},
            time.monotonic() - t0,
        )
    return CheckResult(
        "archive-checksum", Status.PASS, f"SHA-256 matches {source}", {"sha256": got}, time.monotonic() - t0
    )


def verify_backup(
    path: Path,
    *,
    identities: Sequence[Any] = (),
    expected_sha256: str | None = None,
    display_name: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check one archive end to end; the Report (kind ``backup-verify``) says what held."""
    t_start = time.monotonic()
    display = display_name or path.name
    if not path.is_file():
        raise InputError(f"{path}: no such archive", hint="see 'aikinklab-ops backup list' for the archives there are")
    if not identities and ar.is_encrypted(path):
        raise InputError(
            f"{path}: the archive is encrypted (age)", hint="pass the matching key file with --identity FILE"
        )
    checks = [archive_checksum_check(path, expected_sha256, display)]
    with tempfile.TemporaryDirectory(prefix="aikinklab-verify-") as scratch_name:
        scratch = Path(scratch_name)
        t0 = time.monotonic()
        if progress:
            # The total is unknown until the manifest is read: progress counts the bytes checked.
            progress.start("verifying", unit="B")
        try:
            result = ar.scan(
                path, identities, extract_to=scratch / "x", keep=lambda n: n == ar.BUNDLE_MEMBER, progress=progress
            )
        except InputError as err:
            checks.append(
                CheckResult("readable", Status.FAIL, err.message, {"hint": err.hint or ""}, time.monotonic() - t0)
            )
            return Report("backup-verify", tuple(checks), target=display, duration_s=time.monotonic() - t_start)
        finally:
            if progress:
                progress.finish()
        manifest = result.manifest
        files = manifest["files"]
        checks.append(
            CheckResult(
                "manifest",
                Status.PASS,
                f"{manifest.get('type')} backup of {manifest.get('repository', {}).get('commit', '?')[:12]} made "
                f"{manifest.get('created_at')} by aikinklab-ops {manifest.get('tool_version')}, {len(files)} files",
                {"type": manifest.get("type"), "created_at": manifest.get("created_at"), "files": len(files)},
                time.monotonic() - t0,
            )
        )
        bad = [*result.unsafe, *result.mismatched]
        checks.append(
            CheckResult(
                "checksums",
                Status.FAIL if bad else Status.PASS,
                f"{len(bad)} member(s) do not match the manifest: {', '.join(bad[:5])}"
                if bad
                else f"{result.checked} member(s) match their SHA-256",
                {"mismatched": result.mismatched, "unsafe": result.unsafe} if bad else {"checked": result.checked},
            )
        )
        incomplete = result.missing or result.unexpected or result.duplicate
        checks.append(
            CheckResult(
                "complete",
                Status.FAIL if incomplete else Status.PASS,
                "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(result.missing[:5])}" if result.missing else "",
                        f"not in the manifest {', '.join(result.unexpected[:5])}" if result.unexpected else "",
                        f"duplicated {', '.join(result.duplicate[:5])}" if result.duplicate else "",
                    )
                    if part
                )
                if incomplete
                else "the manifest lists exactly the archive's members",
                {"missing": result.missing, "unexpected": result.unexpected, "duplicate": result.duplicate}
                if incomplete
                else {},
            )
        )
        checks.append(_bundle_check(manifest, scratch, result))
    return Report("backup-verify", tuple(checks), target=display, duration_s=time.monotonic() - t_start)


def _bundle_check(manifest: dict[str, Any], scratch: Path, result: ar.ScanResult) -> CheckResult:
    t0 = time.monotonic()
    has_bundle = any(row["path"] == ar.BUNDLE_MEMBER for row in manifest["files"])
    if not has_bundle:
        if manifest.get("type") in ("full", "code"):
            return CheckResult("bundle", Status.FAIL, f"a {manifest.get('type')} backup without its repository bundle")
        return CheckResult("bundle", Status.SKIP, f"no repository in a {manifest.get('type')} backup")
    bundle = scratch / "x" / ar.BUNDLE_MEMBER
    if ar.BUNDLE_MEMBER in result.mismatched or not bundle.is_file():
        return CheckResult("bundle", Status.FAIL, "the repository bundle is damaged or missing; not cloned")
    expected = manifest.get("repository", {}).get("refs") or {}
    try:
        found = drill(bundle, scratch, expected)
    except OpsError as err:
        return CheckResult(
            "bundle",
            Status.FAIL,
            f"the repository does not clone from the bundle: {err.message}",
            {},
            time.monotonic() - t0,
        )
    lacking = [str(r) for key in ("missing", "different") for r in found[key]]  # type: ignore[attr-defined]
    if lacking:
        return CheckResult(
            "bundle",
            Status.FAIL,
            f"the cloned repository lacks refs the manifest lists: {', '.join(lacking[:5])}",
            found,
            time.monotonic() - t0,
        )
    return CheckResult(
        "bundle",
        Status.PASS,
        f"cloned and fsck'd: {found['branches']} branches, {found['tags']} tags, all refs present",
        found,
        time.monotonic() - t0,
    )
