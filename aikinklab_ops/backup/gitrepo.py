"""Git for backups: what the repository holds, a bundle of all of it, and a clone that keeps it all.

Two traps shape this module. ``git bundle verify`` passes a bundle made from a shallow clone that
cannot be cloned, so shallow repositories are refused up front and every verification clones.
And a plain ``git clone`` of a bundle makes one local branch; a restore must make all of them, so
``clone_bundle`` creates a local branch for every head in the bundle.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aikinklab_ops.errors import GitError, InputError

# Git runs locally here; the limit only stops a wedged process from holding a CI job forever.
GIT_TIMEOUT_S = 3600


def git(args: Sequence[str], cwd: Path, *, check: bool = True, input_text: str | None = None) -> str:
    """Run git and return stdout; a failure becomes a GitError carrying git's own words."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as err:
        raise GitError("git is not installed", hint="install git (apt-get install git) and retry") from err
    except subprocess.TimeoutExpired as err:
        raise GitError(f"git {args[0]} did not finish within {GIT_TIMEOUT_S}s") from err
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args[:2])} failed: {msg[-1] if msg else f'exit {proc.returncode}'}")
    return proc.stdout


def clean_remote_url(url: str | None) -> str | None:
    """A remote URL without credentials: a token embedded in a clone URL must not reach a manifest."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, "", ""))
    return url


@dataclass(frozen=True)
class RepoInfo:
    root: Path
    objects_dir: Path
    head: str
    default_branch: str
    # Refs as the bundle will carry them (remote-only branches already mapped to refs/heads/*).
    refs: Mapping[str, str]
    remote_url: str | None

    @property
    def branches(self) -> list[str]:
        return sorted(r.removeprefix("refs/heads/") for r in self.refs if r.startswith("refs/heads/"))

    @property
    def tags(self) -> list[str]:
        return sorted(r.removeprefix("refs/tags/") for r in self.refs if r.startswith("refs/tags/"))


def inspect_repo(path: Path, *, need_history: bool = True, need_worktree: bool = False) -> RepoInfo:
    """Everything a backup needs to know, or an InputError that says how to fix the checkout."""
    if not path.is_dir():
        raise InputError(f"{path}: no such directory", hint="pass the repository with --repo DIR")
    try:
        bare = git(["rev-parse", "--is-bare-repository"], path).strip() == "true"
        top = ["--absolute-git-dir"] if bare else ["--show-toplevel"]
        root = Path(git(["rev-parse", *top], path).strip())
    except GitError as err:
        raise InputError(
            f"{path}: not a git repository", hint="run the backup inside the app's repository or pass --repo DIR"
        ) from err
    if bare and need_worktree:
        raise InputError(
            f"{root}: a bare repository has no working tree, so it has no configuration, environment files or assets",
            hint="back up its history with 'backup create code', or pass the app's checkout with --repo DIR",
        )
    if need_history and git(["rev-parse", "--is-shallow-repository"], root).strip() == "true":
        raise InputError(
            f"{root}: the repository is a shallow clone; a bundle of it would be missing history and could not be "
            "cloned",
            hint="check out with full history: actions/checkout with 'fetch-depth: 0' (or run 'git fetch --unshallow')",
        )
    objects_dir = Path(git(["rev-parse", "--git-path", "objects"], root).strip())
    if not objects_dir.is_absolute():
        objects_dir = (root / objects_dir).resolve()
    listing = git(
        ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags", "refs/remotes"], root
    )
    local: dict[str, str] = {}
    remote: dict[str, str] = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition(" ")
        if ref.startswith("refs/remotes/"):
            rest = ref.removeprefix("refs/remotes/")
            remote_name, _, branch = rest.partition("/")
            if branch and branch != "HEAD":
                # origin's copy wins (the restore pushes back to origin); else the first remote by name.
                if remote_name == "origin":
                    remote[f"refs/heads/{branch}"] = sha
                else:
                    remote.setdefault(f"refs/heads/{branch}", sha)
        else:
            local[ref] = sha
    refs = dict(local)
    for ref, sha in remote.items():
        refs.setdefault(ref, sha)
    if not any(r.startswith("refs/heads/") for r in refs):
        raise InputError(
            f"{root}: the repository has no commits yet, so there is nothing to back up",
            hint="commit (and push) the app first, or point --repo at the right checkout",
        )
    default = _default_branch(root, refs)
    head = (
        git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], root, check=False).strip()
        or refs[f"refs/heads/{default}"]
    )
    if not git(["symbolic-ref", "-q", "HEAD"], root, check=False).strip() and not git(
        ["for-each-ref", "--count=1", "--contains", head, "refs/heads", "refs/tags", "refs/remotes"], root
    ):
        # Commits made on a detached HEAD are on no branch: without a ref they would not be bundled.
        name = f"refs/heads/detached-HEAD-{head[:7]}"
        refs[name if name not in refs else f"{name}-{len(refs)}"] = head
    remote_url = git(["config", "--get", "remote.origin.url"], root, check=False).strip() or None
    return RepoInfo(root, objects_dir, head, default, dict(sorted(refs.items())), clean_remote_url(remote_url))


def _default_branch(root: Path, refs: Mapping[str, str]) -> str:
    sym = git(["symbolic-ref", "-q", "HEAD"], root, check=False).strip()
    if sym.startswith("refs/heads/") and sym in refs:
        return sym.removeprefix("refs/heads/")
    origin_head = git(["symbolic-ref", "-q", "refs/remotes/origin/HEAD"], root, check=False).strip()
    if origin_head.startswith("refs/remotes/origin/"):
        name = origin_head.removeprefix("refs/remotes/origin/")
        if f"refs/heads/{name}" in refs:
            return name
    for name in ("main", "master"):
        if f"refs/heads/{name}" in refs:
            return name
    return next(r for r in refs if r.startswith("refs/heads/")).removeprefix("refs/heads/")


def create_bundle(info: RepoInfo, dest: Path, scratch: Path) -> None:
    """Bundle every branch and tag, remote-only branches included, without touching the source repo.

    A throwaway bare repository borrows the source's objects (alternates) and holds the refs under
    the names the bundle should carry, so a CI checkout's ``origin/feature`` lands as ``feature``.
    """
    tmp = scratch.resolve() / "bundle-refs.git"
    git(["init", "-q", "--bare", str(tmp)], scratch)
    (tmp / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (tmp / "objects" / "info" / "alternates").write_text(str(info.objects_dir) + "\n", encoding="utf-8")
    git(["update-ref", "--stdin"], tmp, input_text="".join(f"create {r} {s}\n" for r, s in info.refs.items()))
    git(["symbolic-ref", "HEAD", f"refs/heads/{info.default_branch}"], tmp)
    git(["bundle", "create", "-q", str(dest), "--all"], tmp)


def bundle_heads(bundle: Path, cwd: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in git(["bundle", "list-heads", str(bundle)], cwd).splitlines():
        sha, _, ref = line.partition(" ")
        if ref:
            out[ref] = sha
    return out


def drill(bundle: Path, scratch: Path, expected: Mapping[str, str]) -> dict[str, object]:
    """Prove the bundle restores: verify it, mirror-clone it, fsck the clone, compare every ref.

    Raises GitError when git refuses. Refs that are absent from the clone or point elsewhere are
    not an error here: they are returned in ``missing``/``different`` for the caller to judge.
    """
    target = scratch.resolve() / "drill.git"
    git(["clone", "-q", "--mirror", str(bundle), str(target)], scratch)
    git(["bundle", "verify", "-q", str(bundle)], target)
    git(["fsck", "--full", "--no-dangling", "--no-progress"], target)
    got: dict[str, str] = {}
    for line in git(["for-each-ref", "--format=%(objectname) %(refname)"], target).splitlines():
        sha, _, ref = line.partition(" ")
        got[ref] = sha
    missing = sorted(r for r in expected if r not in got)
    different = sorted(r for r in expected if r in got and got[r] != expected[r])
    return {
        "refs": len(got),
        "branches": sum(1 for r in got if r.startswith("refs/heads/")),
        "tags": sum(1 for r in got if r.startswith("refs/tags/")),
        "missing": missing,
        "different": different,
    }


def clone_bundle(bundle: Path, dest: Path, *, default_branch: str | None, remote_url: str | None) -> dict[str, object]:
    """A normal working clone with a local branch for every head and every tag, HEAD on the default."""
    parent = dest.parent
    git(["clone", "-q", "--no-checkout", str(bundle), str(dest)], parent)
    heads = bundle_heads(bundle, dest)
    # Tags that point outside every branch's history are not fetched by clone; fetch them all.
    git(["fetch", "-q", str(bundle), "+refs/tags/*:refs/tags/*"], dest)
    branches = sorted(r.removeprefix("refs/heads/") for r in heads if r.startswith("refs/heads/"))
    current = git(["symbolic-ref", "-q", "HEAD"], dest, check=False).strip().removeprefix("refs/heads/")
    for name in branches:
        if name != current:
            git(["update-ref", f"refs/heads/{name}", heads[f"refs/heads/{name}"]], dest)
        git(["config", f"branch.{name}.remote", "origin"], dest)
        git(["config", f"branch.{name}.merge", f"refs/heads/{name}"], dest)
    target = default_branch if default_branch in branches else (current or branches[0])
    git(["checkout", "-q", "-f", target], dest)
    if remote_url:
        git(["remote", "set-url", "origin", remote_url], dest)
    else:
        # The bundle lives in a folder that is about to go; a dangling origin would only confuse.
        git(["remote", "remove", "origin"], dest)
        for name in branches:
            git(["config", "--unset", f"branch.{name}.remote"], dest, check=False)
            git(["config", "--unset", f"branch.{name}.merge"], dest, check=False)
    tags = git(["tag", "--list"], dest).split()
    return {"branches": branches, "tags": sorted(tags), "head": target}
