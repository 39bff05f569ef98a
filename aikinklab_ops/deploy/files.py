"""Which files a deployment is made of, and their SHA-1s.

Two modes:

* prebuilt: ``.vercel/output`` (from ``vercel build``) under the project folder; only that tree
  is uploaded, under its ``.vercel/output/...`` paths;
* source: the project folder, minus ``.vercelignore`` (gitignore syntax, via ``pathspec``), the
  ``deploy.ignore`` patterns and the usual exclusions (``.git``, ``node_modules``, ``.vercel``,
  ``.next``, ...). ``.env*`` files are never uploaded unless asked for.

Files are hashed streaming, a buffer at a time; no file is ever read whole into memory.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pathspec

from aikinklab_ops.errors import InputError
from aikinklab_ops.vercel.client import MAX_FILES

OUTPUT_DIR = ".vercel/output"
# Never uploaded from a source tree (directories are pruned, not walked).
DEFAULT_IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".vercel", ".next", ".cache", "__pycache__"})
_VCS_DIRS = frozenset({".git", ".hg", ".svn"})
DEFAULT_IGNORED_FILES = ("npm-debug.log*", "yarn-error.log*", ".DS_Store", "*.swp", ".vercelignore")
_BUF = 1 << 20
_local = threading.local()


def _buffer() -> bytearray:
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(_BUF)
    return buf


@dataclass(frozen=True)
class LocalFile:
    path: str  # posix path relative to the project root: what Vercel calls ``file``
    abs_path: Path
    size: int
    sha: str


@dataclass(frozen=True)
class FileSet:
    root: Path
    prebuilt: bool
    files: tuple[LocalFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def by_sha(self) -> dict[str, LocalFile]:
        """One file per distinct content: identical content is uploaded once."""
        out: dict[str, LocalFile] = {}
        for f in self.files:
            out.setdefault(f.sha, f)
        return out

    def manifest(self) -> list[dict[str, object]]:
        """The ``files`` of a create-deployment body."""
        return [{"file": f.path, "sha": f.sha, "size": f.size} for f in self.files]


def sha1_file(path: Path, buf: bytearray | None = None) -> tuple[str, int]:
    """SHA-1 hex digest and size, reading a buffer at a time."""
    h = hashlib.sha1()  # noqa: S324 - Vercel's content address, not a security use
    view = memoryview(buf if buf is not None else _buffer())
    size = 0
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(view)  # type: ignore[attr-defined]
            if not n:
                break
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def _is_env_file(name: str) -> bool:
    return name == ".env" or name.startswith(".env.")


def list_files(
    root: Path,
    *,
    prebuilt: bool | None = None,
    include_env_files: bool = False,
    extra_ignore: Sequence[str] = (),
) -> tuple[bool, list[tuple[str, Path]]]:
    """The (relative posix path, absolute path) pairs to deploy, sorted; and whether prebuilt."""
    root = root.resolve()
    if not root.is_dir():
        raise InputError(f"{root}: not a directory", hint="pass the app's folder with --path")
    output = root / OUTPUT_DIR
    if prebuilt is None:
        prebuilt = output.is_dir()
    if prebuilt and not output.is_dir():
        raise InputError(
            f"{output}: no prebuilt output (--prebuilt needs .vercel/output)",
            hint="run `vercel build` (or `vercel build --prod` for production) first, or leave out --prebuilt",
        )
    patterns: list[str] = [*DEFAULT_IGNORED_FILES, *extra_ignore]
    if not prebuilt:
        ignore_file = root / ".vercelignore"
        if ignore_file.is_file():
            try:
                patterns += ignore_file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as err:
                raise InputError(f"{ignore_file}: cannot read: {err}") from err
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    except Exception as err:  # pathspec raises plain errors on bad patterns
        raise InputError(f"{root / '.vercelignore'}: invalid pattern: {err}") from err

    walk_root = output if prebuilt else root
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(walk_root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            if not prebuilt and d in DEFAULT_IGNORED_DIRS:
                continue
            if not prebuilt and spec.match_file(rel_dir + d + "/"):
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            rel = rel_dir + name
            if not include_env_files and _is_env_file(name):
                continue
            if spec.match_file(rel):
                continue
            full = here / name
            try:
                st = full.stat()
            except OSError:
                continue  # a dangling symlink: nothing to upload
            if stat.S_ISREG(st.st_mode):
                _check_name(rel)
                if full.is_symlink():
                    _check_link(root, rel, full, prebuilt=prebuilt, include_env_files=include_env_files, spec=spec)
                found.append((rel, full))
    found.sort()
    return prebuilt, found


def _check_name(rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
        raise InputError(
            f"{shown}: the file name is not UTF-8, so it cannot be sent to Vercel",
            hint="rename the file with a UTF-8 name, or add it to .vercelignore",
        ) from None


def _check_link(
    root: Path, rel: str, full: Path, *, prebuilt: bool, include_env_files: bool, spec: pathspec.GitIgnoreSpec
) -> None:
    """A link is uploaded as the file it points to: refuse one whose target the tree would not upload
    (outside the folder, under .git, an .env file, an ignored path), so a link cannot publish it."""
    target = full.resolve()
    why: str | None = None
    try:
        rel_target = target.relative_to(root).as_posix()
    except ValueError:
        why = "outside the deployed folder"
    else:
        parts = rel_target.split("/")
        ignored_dirs = _VCS_DIRS if prebuilt else DEFAULT_IGNORED_DIRS
        if any(part in ignored_dirs for part in parts[:-1]):
            why = "in a folder that is never uploaded"
        elif not include_env_files and _is_env_file(parts[-1]):
            why = "an .env file (not uploaded without --include-env-files)"
        elif not prebuilt and spec.match_file(rel_target):
            why = "a file the ignore rules leave out"
    if why is not None:
        raise InputError(
            f"{rel}: a symbolic link to {target}, {why}; it would be uploaded as that file",
            hint=f"replace the link with a copy of the file you mean to publish, or add {rel} to .vercelignore",
        )


def collect_files(
    root: Path,
    *,
    prebuilt: bool | None = None,
    include_env_files: bool = False,
    extra_ignore: Sequence[str] = (),
    max_files: int = MAX_FILES,
    workers: int = 4,
    on_hashed: Callable[[int], None] | None = None,
) -> FileSet:
    """List and hash the deployment's files; more than ``max_files`` is an error before any hashing."""
    is_prebuilt, pairs = list_files(
        root, prebuilt=prebuilt, include_env_files=include_env_files, extra_ignore=extra_ignore
    )
    where = f"{root}/{OUTPUT_DIR}" if is_prebuilt else str(root)
    if not pairs:
        raise InputError(
            f"{where}: nothing to deploy (no files left after the ignore rules)",
            hint="check that --path is the app's folder, and that .vercelignore and deploy.ignore do not leave out "
            "everything (.git, node_modules, .vercel and .env files are never uploaded)",
        )
    if len(pairs) > max_files:
        raise InputError(
            f"{where}: {len(pairs)} files to deploy, more than the {max_files} Vercel accepts in one deployment",
            hint="add build artefacts and dependencies to .vercelignore, or deploy a prebuilt .vercel/output",
        )
    return FileSet(root.resolve(), is_prebuilt, tuple(hash_files(pairs, workers=workers, on_hashed=on_hashed)))


def hash_files(
    pairs: Iterable[tuple[str, Path]], *, workers: int = 4, on_hashed: Callable[[int], None] | None = None
) -> list[LocalFile]:
    """Hash files with a few threads (hashlib releases the GIL on large buffers); order is kept."""
    items = list(pairs)

    def one(item: tuple[str, Path]) -> LocalFile:
        rel, full = item
        try:
            sha, size = sha1_file(full)
        except OSError as err:
            raise InputError(f"{full}: cannot read: {err.strerror or err}") from err
        return LocalFile(rel, full, size, sha)

    out: list[LocalFile] = []
    if workers <= 1 or len(items) < 64:
        for item in items:
            out.append(one(item))
            if on_hashed:
                on_hashed(out[-1].size)
        return out
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for lf in pool.map(one, items, chunksize=32):
            out.append(lf)
            if on_hashed:
                on_hashed(lf.size)
    return out
