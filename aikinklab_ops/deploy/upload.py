"""Upload the files Vercel says it is missing: bounded concurrency, per-file retries, progress."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from aikinklab_ops.deploy.files import LocalFile, sha1_file
from aikinklab_ops.errors import InputError
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.vercel.client import VercelClient
from aikinklab_ops.vercel.errors import VercelApiError

_UNSTABLE_TREE = "do not modify the tree during a deploy (stop watchers and builds writing to it); run the deploy again"


def _rehash(f: LocalFile) -> str | None:
    try:
        return sha1_file(f.abs_path)[0]
    except OSError:
        return None


@dataclass(frozen=True)
class UploadStats:
    files: int = 0
    bytes: int = 0


def upload_files(
    client: VercelClient,
    wanted: Iterable[str],
    by_sha: Mapping[str, LocalFile],
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> UploadStats:
    """Upload each wanted SHA once; the first file that fails for good stops the rest and is raised."""
    shas = list(dict.fromkeys(wanted))
    todo = [by_sha[s] for s in shas]
    if not todo:
        return UploadStats()
    progress = progress or NullProgress()
    total = sum(f.size for f in todo)
    progress.start(f"uploading {len(todo)} file(s)", total=total, unit="B")
    done_files = done_bytes = 0

    def one(f: LocalFile) -> LocalFile:
        try:
            size_now = f.abs_path.stat().st_size
        except OSError as err:
            raise InputError(
                f"{f.abs_path}: disappeared before upload: {err.strerror or err}", hint=_UNSTABLE_TREE
            ) from err
        if size_now != f.size:
            raise InputError(
                f"{f.abs_path}: changed while deploying ({f.size} bytes when hashed, {size_now} now)",
                hint=_UNSTABLE_TREE,
            )
        try:
            client.upload_file(f.abs_path, f.sha, f.size)
        except VercelApiError as err:
            # Same size, other bytes: Vercel refuses the digest. Say so when the file really changed.
            if err.code in ("invalid_digest", "invalid_file_size") and _rehash(f) != f.sha:
                raise InputError(
                    f"{f.abs_path}: changed while deploying (its SHA-1 is no longer {f.sha})", hint=_UNSTABLE_TREE
                ) from err
            raise
        return f

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="vercel-upload")
    try:
        pending: set[Future[LocalFile]] = {pool.submit(one, f) for f in todo}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in finished:
                err = fut.exception()
                if err is not None:
                    for p in pending:
                        p.cancel()
                    raise err
                f = fut.result()
                done_files += 1
                done_bytes += f.size
                progress.advance(f.size, note=f"{done_files}/{len(todo)} files")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    progress.finish(f"{done_files} file(s), {done_bytes} bytes")
    return UploadStats(done_files, done_bytes)
