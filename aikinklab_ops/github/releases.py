"""Backups as GitHub releases: publish, list, download, delete.

Publishing follows the order that also works with immutable releases: a *draft* prerelease
(never "latest"), every asset uploaded, then one PATCH that publishes it. A tag is never reused:
if ``backup-2026-01-02-030405`` exists, the next free ``-2``, ``-3`` … suffix is taken.

Uploads are not idempotent, so they are never retried blindly: after a failed upload the leftover
asset of that name (GitHub keeps a half-made one) is deleted first. GitHub's secondary rate limits
are honoured — PyGithub waits between writes, and a 403/429 with ``Retry-After`` or
``x-ratelimit-reset`` is waited out up to a bound, after which the error says when to come back.
Assets over the size limit go up in parts listed by a ``<archive>.parts.json`` asset; downloads
join and check them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException
from github.GithubRetry import GithubRetry

from aikinklab_ops.errors import ApiError, ExternalError, InputError
from aikinklab_ops.http import IDEMPOTENT, make_session, transport_error
from aikinklab_ops.progress import NullProgress, Progress

# aikinklab_ops.backup.archive is imported inside the methods that use it: the backup package
# imports this module, so importing it here would be circular.

GZIP = "application/gzip"
PARTS_SUFFIX = ".parts.json"
CHUNK = 1024 * 1024


class _SafeGithubRetry(GithubRetry):
    """GithubRetry for idempotent calls only.

    A POST or PATCH is never retried at this layer: an upload's body is a stream that cannot be
    replayed, and a retried create could make two releases. ``ReleaseStore._write`` and
    ``_upload`` retry those themselves, only when GitHub said it did not process the request.
    """

    def __init__(self, *args: Any, max_retry_after: float = 60.0, **kwargs: Any) -> None:
        self.max_retry_after = max_retry_after
        super().__init__(*args, **kwargs)

    def new(self, **kw: Any) -> _SafeGithubRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() not in IDEMPOTENT:
            return False
        return bool(super().is_retry(method, status_code, has_retry_after))

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


@dataclass(frozen=True)
class Asset:
    id: int
    name: str
    size: int
    url: str


@dataclass(frozen=True)
class RemoteBackup:
    tag: str
    release_id: int
    created_at: datetime
    draft: bool
    html_url: str
    assets: tuple[Asset, ...]

    def asset(self, name: str) -> Asset | None:
        return next((a for a in self.assets if a.name == name), None)

    @property
    def archive_name(self) -> str | None:
        from aikinklab_ops.backup.archive import parse_name

        for a in self.assets:
            if parse_name(a.name):
                return a.name
            if a.name.endswith(PARTS_SUFFIX) and parse_name(a.name[: -len(PARTS_SUFFIX)]):
                return a.name[: -len(PARTS_SUFFIX)]
        return None

    @property
    def complete(self) -> bool:
        """Published, with the archive (or its parts index) and its checksum: only then was it verified."""
        name = self.archive_name
        return not self.draft and name is not None and self.asset(name + ".sha256") is not None


def _api_error(err: GithubException, doing: str) -> ApiError:
    data = err.data if isinstance(err.data, dict) else {}
    message = data.get("message") or str(err.data or "")
    status = err.status
    hint = None
    if status == 401:
        hint = "GITHUB_TOKEN is missing or invalid"
    elif status == 403:
        hint = "the token needs 'contents: write' on this repository (permissions: contents: write in the workflow)"
    elif status == 404:
        hint = "check GITHUB_REPOSITORY and that the token can see the repository"
    elif status == 422:
        hint = "GitHub found the request invalid; a release's commit must already be pushed to the repository"
    return ApiError(
        f"GitHub: {doing} failed: HTTP {status} {message}".strip(), service="github", status=status, hint=hint
    )


class _Range:
    """A read-only view of ``length`` bytes of a file from ``offset``: uploads parts without copies."""

    def __init__(self, fh: BinaryIO, offset: int, length: int, progress: Progress) -> None:
        self._fh = fh
        self._left = length
        self._progress = progress
        fh.seek(offset)

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        self._progress.advance(len(data))
        return data

    def __len__(self) -> int:
        # requests sizes the body from this (Content-Length), instead of falling back to chunked.
        return max(self._left, 0)

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk


class ReleaseStore:
    """The repository's backup releases. One instance per run; every call has a timeout."""

    def __init__(
        self,
        token: str | None,
        repository: str | None,
        *,
        api_url: str = "https://api.github.com",
        timeout_s: float = 60,
        seconds_between_writes: float = 1.0,
        max_rate_limit_wait_s: float = 300,
        upload_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token or not repository:
            raise InputError(
                "publishing or reading backup releases needs GITHUB_TOKEN and GITHUB_REPOSITORY",
                hint="in a workflow: env: GITHUB_TOKEN: ${{ github.token }} (with permissions: contents: write)",
            )
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._timeout = timeout_s
        self._max_wait = max_rate_limit_wait_s
        self._attempts = upload_attempts
        self._sleep = sleep
        retry = _SafeGithubRetry(
            total=4,
            backoff_factor=1.0,
            status_forcelist=[429, 500, 502, 503, 504],
            secondary_rate_wait=min(60.0, max_rate_limit_wait_s),
            max_rate_limit_wait=max_rate_limit_wait_s,
            max_retry_after=max_rate_limit_wait_s,
        )
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=int(timeout_s),
            retry=retry,
            per_page=100,
            lazy=True,
            seconds_between_writes=seconds_between_writes,
            seconds_between_requests=None,
        )
        self._repo: Any = None
        self._repo_path = f"/repos/{repository}"

    # ------------------------------------------------------------------ plumbing

    def _r(self) -> Any:
        if self._repo is None:
            try:
                self._repo = self._gh.get_repo(self.repository)
            except GithubException as err:
                raise _api_error(err, f"opening {self.repository}") from err
        return self._repo

    def _call(self, doing: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except GithubException as err:
            raise _api_error(err, doing) from err
        except requests.RequestException as err:
            raise ExternalError(f"GitHub: {doing} failed: {err.__class__.__name__}") from err

    def _write(self, doing: str, fn: Callable[[], Any]) -> Any:
        """A non-idempotent call, retried only after GitHub refused it for a rate limit (so it was not done)."""
        for attempt in range(1, self._attempts + 1):
            try:
                return fn()
            except GithubException as err:
                wait = self._rate_wait(err)
                if wait is None or attempt == self._attempts:
                    raise _api_error(err, doing) from err
                self._check_wait(wait, doing, err)
                self._sleep(wait)
            except requests.RequestException as err:
                raise ExternalError(
                    f"GitHub: {doing} failed: {err.__class__.__name__}",
                    hint="it may or may not have happened; check the repository's releases before running again",
                ) from err
        raise AssertionError("unreachable")

    def _check_wait(self, wait: float, doing: str, err: GithubException) -> None:
        if wait > self._max_wait:
            raise ApiError(
                f"GitHub: rate limited while {doing}; it asks to wait {wait:.0f}s",
                service="github",
                status=err.status,
                hint=f"run it again in {max(1, round(wait / 60))} minutes",
            ) from err

    def _rate_wait(self, err: GithubException) -> float | None:
        """Seconds to wait when GitHub says "not now" (secondary or primary rate limit), else None."""
        if err.status not in (403, 429):
            return None
        headers = {k.lower(): v for k, v in (err.headers or {}).items()}
        if "retry-after" in headers:
            try:
                return max(0.0, float(headers["retry-after"]))
            except ValueError:
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            try:
                return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1
            except ValueError:
                return 60.0
        message = str(err.data.get("message", "")) if isinstance(err.data, dict) else ""
        return 60.0 if "rate limit" in message.lower() else None

    # ------------------------------------------------------------------ listing

    def list_backups(self, prefix: str = "backup-") -> list[RemoteBackup]:
        def fetch() -> list[RemoteBackup]:
            out = []
            for rel in self._r().get_releases():
                if not rel.tag_name.startswith(prefix):
                    continue
                assets = tuple(Asset(a.id, a.name, a.size, a.url) for a in rel.assets)
                created = rel.created_at or datetime.now(timezone.utc)
                if created.tzinfo is None:
                    created = created.replace(tzinfo=timezone.utc)
                out.append(RemoteBackup(rel.tag_name, rel.id, created, bool(rel.draft), rel.html_url or "", assets))
            return sorted(out, key=lambda b: b.created_at, reverse=True)

        result: list[RemoteBackup] = self._call("listing releases", fetch)
        return result

    def _tag_taken(self, tag: str, releases: list[RemoteBackup]) -> bool:
        if any(r.tag == tag for r in releases):
            return True
        try:
            self._gh.requester.requestJsonAndCheck("GET", f"{self._repo_path}/git/ref/tags/{quote(tag, safe='')}")
        except GithubException as err:
            if err.status == 404:
                return False
            raise _api_error(err, f"looking up tag {tag}") from err
        return True

    def free_tag(self, base: str, releases: list[RemoteBackup] | None = None) -> str:
        known = releases if releases is not None else self.list_backups(base.split("-")[0] + "-")
        tag, n = base, 1
        while self._tag_taken(tag, known):
            n += 1
            tag = f"{base}-{n}"
        return tag

    # ------------------------------------------------------------------ publishing

    def publish(
        self,
        archive: Path,
        sha256: str,
        *,
        tag: str,
        commit: str | None,
        body: str,
        part_size: int,
        progress: Progress | None = None,
    ) -> RemoteBackup:
        """Draft prerelease, assets, then publish; a failure deletes the draft and says so."""
        from aikinklab_ops.backup.archive import sha256_line

        progress = progress or NullProgress()
        tag = self.free_tag(tag)
        kwargs: dict[str, Any] = {"draft": True, "prerelease": True, "make_latest": "false"}
        if commit:
            kwargs["target_commitish"] = commit
        release = self._write(
            f"creating draft release {tag}",
            lambda: self._r().create_git_release(tag, name=tag, message=body, **kwargs),
        )
        try:
            size = archive.stat().st_size
            progress.start(f"uploading {archive.name}", total=size, unit="B")
            with open(archive, "rb") as fh:
                if size > part_size:
                    parts = []
                    for i, offset in enumerate(range(0, size, part_size), start=1):
                        length = min(part_size, size - offset)
                        name = f"{archive.name}.part{i:03d}"
                        h = hashlib.sha256()
                        for chunk in _Range(fh, offset, length, NullProgress()):
                            h.update(chunk)
                        self._upload(release, name, fh, offset, length, GZIP, progress)
                        parts.append({"name": name, "size": length, "sha256": h.hexdigest()})
                    index = {"archive": archive.name, "size": size, "sha256": sha256, "parts": parts}
                    data = json.dumps(index, indent=2).encode("utf-8")
                    self._upload_bytes(release, archive.name + PARTS_SUFFIX, data, "application/json")
                else:
                    self._upload(release, archive.name, fh, 0, size, GZIP, progress)
            progress.finish()
            line = sha256_line(sha256, archive.name).encode()
            self._upload_bytes(release, archive.name + ".sha256", line, "text/plain")
            published = self._write(
                f"publishing release {tag}",
                lambda: release.update_release(
                    name=tag, message=body, draft=False, prerelease=True, make_latest="false"
                ),
            )
        except BaseException:
            # Best effort: the original error is the one worth raising.
            with contextlib.suppress(Exception):
                release.delete_release()
            raise
        assets = tuple(Asset(a.id, a.name, a.size, a.url) for a in published.assets)
        created = published.created_at or datetime.now(timezone.utc)
        return RemoteBackup(published.tag_name, published.id, created, False, published.html_url or "", assets)

    def _upload_bytes(self, release: Any, name: str, data: bytes, content_type: str) -> None:
        self._upload(release, name, io.BytesIO(data), 0, len(data), content_type, NullProgress())

    def _upload(
        self, release: Any, name: str, fh: BinaryIO, offset: int, length: int, content_type: str, progress: Progress
    ) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                release.upload_asset_from_memory(
                    _Range(fh, offset, length, progress), length, name=name, content_type=content_type
                )
                return
            except (GithubException, requests.RequestException) as err:
                status = err.status if isinstance(err, GithubException) else None
                wait = self._rate_wait(err) if isinstance(err, GithubException) else None
                retryable = status is None or status >= 500 or status == 422 or wait is not None
                if not retryable or attempt == self._attempts:
                    if isinstance(err, GithubException):
                        raise _api_error(err, f"uploading {name}") from err
                    raise transport_error(err, release.upload_url.split("{")[0], "GitHub") from err
                if wait is not None and isinstance(err, GithubException):
                    self._check_wait(wait, f"uploading {name}", err)
                # The upload may have left a half-made asset that blocks the name: remove it first.
                self._delete_asset_named(release, name)
                self._sleep(wait if wait is not None else min(30.0, 2.0**attempt))

    def _delete_asset_named(self, release: Any, name: str) -> None:
        def go() -> None:
            for asset in release.get_assets():
                if asset.name == name:
                    asset.delete_asset()

        self._call(f"removing the leftover asset {name}", go)

    # ------------------------------------------------------------------ deleting

    def delete(self, backup: RemoteBackup) -> None:
        """Delete the release and its tag (a release delete leaves the tag behind)."""
        repo = self._r()
        self._call(f"deleting release {backup.tag}", lambda: repo.get_release(backup.release_id).delete_release())
        try:
            self._gh.requester.requestJsonAndCheck(
                "DELETE", f"{self._repo_path}/git/refs/tags/{quote(backup.tag, safe='')}"
            )
        except GithubException as err:
            if err.status not in (404, 422):
                raise _api_error(err, f"deleting tag {backup.tag}") from err

    # ------------------------------------------------------------------ downloading

    def find(self, tag: str) -> RemoteBackup:
        try:
            rel = self._r().get_release(tag)
            assets = tuple(Asset(a.id, a.name, a.size, a.url) for a in rel.assets)
            return RemoteBackup(rel.tag_name, rel.id, rel.created_at, bool(rel.draft), rel.html_url or "", assets)
        except GithubException as err:
            if err.status == 404:
                raise InputError(
                    f"no release tagged {tag} in {self.repository}", hint="see 'aikinklab-ops backup list --remote'"
                ) from err
            raise _api_error(err, f"reading release {tag}") from err

    def download(self, tag: str, dest: Path, progress: Progress | None = None) -> tuple[Path, str]:
        """Download a backup release into ``dest``; returns the archive path and its expected SHA-256."""
        progress = progress or NullProgress()
        backup = self.find(tag)
        name = backup.archive_name
        side = backup.asset(name + ".sha256") if name else None
        if name is None or side is None:
            raise InputError(
                f"release {tag} holds no complete aikinklab backup (archive and .sha256)",
                hint="pick another tag from 'aikinklab-ops backup list --remote'",
            )
        session = make_session(timeout=(10.0, self._timeout))
        session.headers["Authorization"] = f"Bearer {self._token}"
        from aikinklab_ops.backup.archive import read_sha256_file, sha256_file

        side_path = dest / side.name
        self._fetch(session, side, side_path, NullProgress())
        expected = read_sha256_file(side_path)
        out = dest / name
        index = backup.asset(name + PARTS_SUFFIX)
        if index is None:
            asset = backup.asset(name)
            assert asset is not None
            progress.start(f"downloading {name}", total=asset.size, unit="B")
            self._fetch(session, asset, out, progress)
            progress.finish()
            return out, expected
        idx_path = dest / index.name
        self._fetch(session, index, idx_path, NullProgress())
        try:
            parts = json.loads(idx_path.read_text(encoding="utf-8"))["parts"]
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"release {tag}: {index.name} is not a parts index") from err
        progress.start(f"downloading {name} ({len(parts)} parts)", total=sum(p["size"] for p in parts), unit="B")
        with open(out, "wb") as joined:
            for part in parts:
                asset = backup.asset(part["name"])
                if asset is None:
                    raise InputError(f"release {tag}: part {part['name']} is missing", hint="use another backup")
                part_path = dest / part["name"]
                self._fetch(session, asset, part_path, progress)
                got = sha256_file(part_path)
                if got != part["sha256"]:
                    raise InputError(f"release {tag}: part {part['name']} has the wrong SHA-256", hint="download again")
                with open(part_path, "rb") as src:
                    while chunk := src.read(CHUNK):
                        joined.write(chunk)
                part_path.unlink()
        progress.finish()
        return out, expected

    def _fetch(self, session: requests.Session, asset: Asset, path: Path, progress: Progress) -> None:
        try:
            with session.get(asset.url, headers={"Accept": "application/octet-stream"}, stream=True) as resp:
                if resp.status_code != 200:
                    raise ApiError(
                        f"GitHub: downloading {asset.name} answered HTTP {resp.status_code}",
                        service="github",
                        status=resp.status_code,
                    )
                with open(path, "wb") as fh:
                    for chunk in resp.iter_content(CHUNK):
                        fh.write(chunk)
                        progress.advance(len(chunk))
        except requests.RequestException as err:
            raise transport_error(err, asset.url, "GitHub") from err
