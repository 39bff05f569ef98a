"""The archive format: a gzip'd tar with ``manifest.json`` first, optionally inside age encryption.

Writing streams: each file is hashed in a first pass (so the manifest, which must come first, can
list every checksum), then streamed into the tar while being hashed again; a file that changed in
between aborts the backup instead of producing an archive whose manifest lies. Memory stays flat
whatever the size of the data.

Reading is just as strict: the manifest must come first, every member must be a regular file with
a safe relative name, listed once in the manifest, with the listed size and SHA-256; nothing may
be missing. Encryption runs in a helper thread joined to the tar stream by a pipe, so neither
plaintext nor ciphertext is ever held whole in memory, and plaintext never touches disk.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import queue
import re
import struct
import tarfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from aikinklab_ops.errors import InputError
from aikinklab_ops.progress import NullProgress, Progress

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024
AGE_MAGIC = b"age-encryption.org/v1"
BUNDLE_MEMBER = "code/repository.bundle"
TYPES = ("full", "code", "config")
LAYOUT_FOLDERS = ("config/", "assets/", "monitoring/")
NAME_RE = re.compile(
    r"^aikinklab_backup_(?P<type>full|code|config)_(?P<stamp>\d{8}-\d{6})_(?P<sha>[0-9a-f]{7,40})"
    r"\.tar\.gz(?P<age>\.age)?$"
)


def archive_name(kind: str, created: datetime, commit: str, *, encrypted: bool) -> str:
    stamp = created.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"aikinklab_backup_{kind}_{stamp}_{commit[:7]}.tar.gz" + (".age" if encrypted else "")


@dataclass(frozen=True)
class ParsedName:
    type: str
    created: datetime
    shortsha: str
    encrypted: bool


def parse_name(name: str) -> ParsedName | None:
    m = NAME_RE.match(name)
    if not m:
        return None
    created = datetime.strptime(m.group("stamp"), "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
    return ParsedName(m.group("type"), created, m.group("sha"), bool(m.group("age")))


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            if progress:
                progress.advance(len(chunk))
    return h.hexdigest()


def sha256_line(digest: str, name: str) -> str:
    """One line in ``sha256sum`` format, so ``sha256sum -c`` checks it."""
    return f"{digest}  {name}\n"


def read_sha256_file(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    m = re.match(r"^([0-9a-fA-F]{64})\b", text)
    if not m:
        raise InputError(f"{path}: not a sha256sum line", hint="regenerate it with: sha256sum ARCHIVE > ARCHIVE.sha256")
    return m.group(1).lower()


# ---------------------------------------------------------------- entries and manifest


@dataclass(frozen=True)
class Entry:
    """One file in the archive: where it comes from and what it must hash to."""

    path: str  # member name inside the archive
    kind: str  # code | config | env | vercel | assets | monitoring
    size: int
    sha256: str
    source: Path | None = None  # a file on disk, or
    data: bytes | None = field(default=None, repr=False)  # bytes made in memory (small: env files, metadata)
    mode: int = 0o644
    mtime: float = 0.0

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.source is not None
        return open(self.source, "rb")

    def manifest_row(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "size": self.size, "sha256": self.sha256}


def entry_from_file(path: str, kind: str, source: Path, progress: Progress | None = None) -> Entry:
    st = source.stat()
    return Entry(
        path=path,
        kind=kind,
        size=st.st_size,
        sha256=sha256_file(source, progress),
        source=source,
        mode=0o755 if st.st_mode & 0o111 else 0o644,
        mtime=st.st_mtime,
    )


def entry_from_bytes(path: str, kind: str, data: bytes, mtime: float = 0.0) -> Entry:
    return Entry(path, kind, len(data), hashlib.sha256(data).hexdigest(), data=data, mtime=mtime)


def safe_member_name(name: str) -> str | None:
    """Why a member name is unsafe to extract, or None. Applied on write and on read."""
    if not name or "\x00" in name:
        return "an empty or NUL-containing name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if any(p == ".." for p in name.replace("\\", "/").split("/")):
        return "a path that climbs out with '..'"
    if any(p in ("", ".") for p in name.split("/")):
        # 'config/./x' or 'config//x' is a second spelling of 'config/x': one file, two members.
        return "a name that is not in canonical form (empty or '.' part)"
    return None


def layout_problem(name: str) -> str | None:
    """Why a (safe) member name has no place in a restore, or None."""
    if name == BUNDLE_MEMBER or name.startswith(LAYOUT_FOLDERS):
        return None
    return f"outside the archive's layout ({BUNDLE_MEMBER}, {', '.join(f + '…' for f in LAYOUT_FOLDERS)})"


def member_problem(member: tarfile.TarInfo) -> str | None:
    bad = safe_member_name(member.name) or layout_problem(member.name)
    if bad:
        return bad
    if member.issym():
        target = member.linkname
        if target.startswith("/") or ".." in PurePosixPath(target).parts:
            return f"a symbolic link pointing outside ({target})"
        return f"a symbolic link ({target}); backups contain regular files only"
    if member.islnk():
        return f"a hard link ({member.linkname}); backups contain regular files only"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a FIFO"
    if not member.isreg():
        return "not a regular file"
    return None


# ---------------------------------------------------------------- writing


class HashingWriter:
    """A write-only sink that counts and hashes what goes to the file: the archive's own SHA-256."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._fh.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._fh.flush()


class _CheckingReader:
    """Feeds tarfile one entry while hashing it, so a file that changed since the first pass is caught."""

    def __init__(self, fh: BinaryIO, progress: Progress) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()
        self.size = 0
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.sha.update(data)
        self.size += len(data)
        self._progress.advance(len(data))
        return data


class FileChanged(InputError):
    pass


class ParallelGzipWriter:
    """gzip (RFC 1952) whose deflate runs in a helper thread, beside the reading and hashing.

    zlib and hashlib release the GIL on large buffers, so on two cores packing costs about as much
    as compressing alone — that is what keeps ``backup create`` near ``tar czf``. The queue is
    bounded (``depth`` chunks of ``CHUNK``), so memory stays flat. The output is ordinary gzip,
    byte for byte what any gunzip reads.
    """

    def __init__(self, sink: Any, *, level: int = 6, mtime: int = 0, depth: int = 4) -> None:
        self._sink = sink
        self._crc = 0
        self._size = 0
        self._buf = bytearray()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._aborted = False
        xfl = 2 if level == 9 else 4 if level == 1 else 0
        sink.write(b"\x1f\x8b\x08\x00" + struct.pack("<I", mtime & 0xFFFFFFFF) + bytes([xfl, 255]))
        self._comp = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
        self._thread = threading.Thread(target=self._work, name="aikinklab-gzip", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                if self._aborted:
                    continue
                out = self._comp.compress(chunk)
                if out:
                    self._sink.write(out)
            if not self._aborted:
                self._sink.write(self._comp.flush())
        except BaseException as err:
            self._error = err
            # Drain so a producer blocked on a full queue wakes up and sees the error.
            while self._queue.get() is not None:
                pass

    def _put(self, item: bytes | None) -> None:
        while True:
            if self._error is not None:
                raise OSError(f"compression failed: {self._error}") from self._error
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise OSError("compression stopped") from self._error

    def write(self, data: bytes) -> int:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buf += data
        if len(self._buf) >= CHUNK:
            self._put(bytes(self._buf))
            self._buf.clear()
        return len(data)

    def close(self) -> None:
        """Finish the stream: the rest of the data, the deflate end, the CRC and length trailer."""
        if self._buf:
            self._put(bytes(self._buf))
            self._buf.clear()
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise OSError(f"compression failed: {self._error}") from self._error
        self._sink.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))

    def abort(self) -> None:
        """Stop the helper thread after an error elsewhere (Ctrl-C too); the output is abandoned.

        The queue may be full (the producer is ahead of the compressor), so what is queued is
        dropped first: the stop marker must get in, or the helper would wait for it forever.
        """
        self._aborted = True
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout=30)


def write_tar_gz(
    sink: Any,
    manifest: bytes,
    entries: Sequence[Entry],
    *,
    level: int = 6,
    progress: Progress | None = None,
    created: float = 0.0,
) -> None:
    """Stream manifest + entries as tar.gz into ``sink`` (anything with ``write``)."""
    progress = progress or NullProgress()
    gz = ParallelGzipWriter(sink, level=level, mtime=int(created))
    try:
        _write_tar(gz, manifest, entries, progress, created)
    except BaseException:
        gz.abort()
        raise
    gz.close()


def _write_tar(
    gz: ParallelGzipWriter, manifest: bytes, entries: Sequence[Entry], progress: Progress, created: float
) -> None:
    with tarfile.open(  # type: ignore[call-overload]
        fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8", bufsize=CHUNK
    ) as tar:
        # Whole-MiB reads and writes: less Python per byte (the stream buffer matches the copy size).
        tar.copybufsize = CHUNK
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(manifest), 0o644, int(created)
        tar.addfile(info, io.BytesIO(manifest))
        for entry in entries:
            info = tarfile.TarInfo(entry.path)
            info.size, info.mode, info.mtime = entry.size, entry.mode, int(entry.mtime)
            info.uname = info.gname = ""
            with entry.open() as fh:
                reader = _CheckingReader(fh, progress)
                try:
                    tar.addfile(info, reader)  # type: ignore[arg-type]
                except (OSError, tarfile.TarError) as err:
                    raise FileChanged(
                        f"{entry.source or entry.path}: changed while the backup was being written ({err})",
                        hint="run the backup again when nothing is writing to these files",
                    ) from err
                extra = fh.read(1)
            if reader.sha.hexdigest() != entry.sha256 or extra:
                raise FileChanged(
                    f"{entry.source or entry.path}: changed while the backup was being written",
                    hint="run the backup again when nothing is writing to these files",
                )


class _PipeWorker:
    """Runs a pyrage stream function in a thread, on one end of an OS pipe."""

    def __init__(self, target: Callable[[], None]) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                target()
            except BaseException as err:
                self.error = err

        self.thread = threading.Thread(target=run, name="aikinklab-age", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join()


def parse_recipients(recipients: Sequence[str]) -> list[Any]:
    """age X25519 recipients, or an InputError naming the one that is not."""
    import pyrage

    parsed = []
    for r in recipients:
        try:
            parsed.append(pyrage.x25519.Recipient.from_str(r.strip()))
        except Exception as err:  # pyrage raises its own RecipientError, or ValueError
            raise InputError(
                f"{r!r} is not a valid age recipient",
                hint="pass X25519 public keys that start with age1 (age-keygen -y KEYFILE prints yours)",
            ) from err
    return parsed


@contextmanager
def encrypting_sink(out: Any, recipients: Sequence[Any]) -> Iterator[BinaryIO]:
    """Yield a writer whose bytes end up age-encrypted in ``out`` (recipients from ``parse_recipients``)."""
    import pyrage

    parsed = list(recipients)
    rfd, wfd = os.pipe()
    reader = os.fdopen(rfd, "rb")

    def work() -> None:
        with reader:
            pyrage.encrypt_io(reader, out, parsed)

    worker = _PipeWorker(work)
    writer = os.fdopen(wfd, "wb")
    try:
        yield writer  # type: ignore[misc]
    except BaseException:
        writer.close()
        worker.join()
        raise
    with suppress(BrokenPipeError):
        writer.close()
    worker.join()
    if worker.error is not None:
        raise InputError(f"encryption failed: {worker.error}") from worker.error


# ---------------------------------------------------------------- reading


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(AGE_MAGIC)) == AGE_MAGIC


def load_identities(paths: Sequence[Path]) -> list[Any]:
    """age X25519 identities from key files (``age-keygen`` output: comments and AGE-SECRET-KEY-1… lines)."""
    import pyrage

    ids: list[Any] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"{path}: cannot read the identity file ({err.strerror})") from err
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("AGE-SECRET-KEY-"):
                try:
                    ids.append(pyrage.x25519.Identity.from_str(line))
                except Exception as err:
                    raise InputError(f"{path}: not a valid age identity line", hint="use age-keygen output") from err
        if not ids:
            raise InputError(f"{path}: no AGE-SECRET-KEY line found", hint="pass the key file made by age-keygen")
    return ids


@contextmanager
def plaintext_stream(path: Path, identities: Sequence[Any]) -> Iterator[tuple[BinaryIO, Callable[[], None]]]:
    """Yield (reader of the tar.gz bytes, check) where check() raises if decryption failed.

    Call check() on any read error before blaming the archive: a wrong key looks like a short
    stream from the reader's side.
    """
    if not is_encrypted(path):
        with open(path, "rb") as fh:
            yield fh, lambda: None
        return
    if not identities:
        raise InputError(
            f"{path}: the archive is encrypted (age)", hint="pass the matching key file with --identity FILE"
        )
    import pyrage

    rfd, wfd = os.pipe()
    writer = os.fdopen(wfd, "wb")
    src = open(path, "rb")  # noqa: SIM115 - closed by the worker

    def work() -> None:
        with src, writer:
            pyrage.decrypt_io(src, writer, list(identities))

    worker = _PipeWorker(work)

    def check() -> None:
        worker.join()
        if worker.error is not None:
            err = worker.error
            if isinstance(err, BrokenPipeError):
                return
            text = str(err) or type(err).__name__
            if "No matching keys" in text or "no identity matched" in text.lower():
                raise InputError(
                    f"{path}: none of the given identities can decrypt this archive",
                    hint="pass the key file whose public key (age1…) the backup was encrypted to",
                ) from err
            raise InputError(f"{path}: the encrypted archive is damaged or truncated ({text})") from err

    reader = os.fdopen(rfd, "rb")
    try:
        yield reader, check
    finally:
        reader.close()
        worker.join()


@dataclass
class ScanResult:
    manifest: dict[str, Any]
    checked: int = 0
    unsafe: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unsafe or self.unexpected or self.duplicate or self.mismatched or self.missing)

    def problems(self) -> list[str]:
        out = [f"{m}: unsafe member refused" for m in self.unsafe]
        out += [f"{m}: not listed in the manifest" for m in self.unexpected]
        out += [f"{m}: appears more than once" for m in self.duplicate]
        out += [f"{m}: checksum or size differs from the manifest" for m in self.mismatched]
        out += [f"{m}: listed in the manifest but missing from the archive" for m in self.missing]
        return out


def _parse_manifest(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: manifest.json is not valid JSON ({err})", hint="the archive is damaged") from err
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or data.get("format") != FORMAT_VERSION:
        raise InputError(f"{path}: manifest.json is not an aikinklab-ops backup manifest (format {FORMAT_VERSION})")
    for row in files:
        if not (
            isinstance(row, dict)
            and isinstance(row.get("path"), str)
            and isinstance(row.get("size"), int)
            and isinstance(row.get("sha256"), str)
        ):
            raise InputError(f"{path}: manifest.json has a malformed file entry: {row!r}")
    manifest: dict[str, Any] = data
    return manifest


def scan(
    path: Path,
    identities: Sequence[Any] = (),
    *,
    extract_to: Path | None = None,
    keep: Callable[[str], bool] | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Read the whole archive once, checking every member against the manifest.

    With ``extract_to``, members pass ``keep`` (all by default) are written there as they are read
    — only call it that way after a scan without it came back clean. Raises InputError when the
    archive cannot be read at all (not gzip, truncated, wrong key, no manifest first).
    """
    progress = progress or NullProgress()
    with plaintext_stream(path, identities) as (stream, check):
        try:
            result = _scan_stream(path, stream, extract_to, keep, progress)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as err:
            check()
            raise InputError(
                f"{path}: the archive is truncated or corrupt ({type(err).__name__}: {err})",
                hint="use another backup (backup list) or download this one again",
            ) from err
        check()
    return result


def _scan_stream(
    path: Path, stream: BinaryIO, extract_to: Path | None, keep: Callable[[str], bool] | None, progress: Progress
) -> ScanResult:
    # gzip.GzipFile checks the trailer (CRC and length) that tarfile's own "r|gz" skips; the
    # stream is drained to its end below so a cut-off archive never passes as whole.
    gz = gzip.GzipFile(fileobj=stream, mode="rb")
    with gz, tarfile.open(fileobj=gz, mode="r|", bufsize=CHUNK) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isreg():
            raise InputError(f"{path}: manifest.json is not the first member", hint="this is not an aikinklab backup")
        fh = tar.extractfile(first)
        assert fh is not None
        manifest = _parse_manifest(path, fh.read())
        expected = {row["path"]: row for row in manifest["files"]}
        result = ScanResult(manifest)
        seen: set[str] = set()
        folders: set[str] = set()
        while (member := tar.next()) is not None:
            problem = member_problem(member)
            name = member.name
            parents = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)]
            if not problem and (name in folders or any(p in seen for p in parents)):
                problem = "a file and a folder of the same name"
            if problem:
                result.unsafe.append(f"{name} ({problem})")
                continue
            if name in seen:
                result.duplicate.append(name)
                continue
            seen.add(name)
            folders.update(parents)
            row = expected.get(name)
            if row is None:
                result.unexpected.append(name)
                continue
            src = tar.extractfile(member)
            assert src is not None
            h = hashlib.sha256()
            size = 0
            out: BinaryIO | None = None
            if extract_to is not None and (keep is None or keep(name)):
                dest = extract_to / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                out = open(dest, "wb")  # noqa: SIM115 - closed below
            try:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    size += len(chunk)
                    progress.advance(len(chunk))
                    if out is not None:
                        out.write(chunk)
            finally:
                if out is not None:
                    out.close()
                    os.chmod(extract_to / name, 0o755 if member.mode & 0o111 else 0o644)  # type: ignore[operator]
            result.checked += 1
            if size != row["size"] or h.hexdigest() != row["sha256"]:
                result.mismatched.append(name)
        result.missing = sorted(set(expected) - seen)
        while gz.read(CHUNK):
            pass
    return result
