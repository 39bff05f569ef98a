"""Git repositories shaped like the app's and age keys, for the backup tests (a module name no other test tree uses)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

SECRET = "sk_live_TOTALLY_SECRET_4242"  # a value that must never leave .env.local unencrypted
NON_ASCII = "docs/café ünïcode ☕.md"


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout


def age_keygen(path: Path) -> str:
    """A key file made by Debian's age-keygen; returns its public key."""
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    return subprocess.run(["age-keygen", "-y", str(path)], check=True, capture_output=True, text=True).stdout.strip()


def refs(repo: Path, *patterns: str) -> dict[str, str]:
    out = {}
    for line in git(repo, "for-each-ref", "--format=%(objectname) %(refname)", *patterns).splitlines():
        sha, ref = line.split(" ", 1)
        out[ref] = sha
    return out


def _commit(repo: Path, path: str, text: str, message: str) -> None:
    p = repo / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    git(repo, "add", "--", path)
    git(repo, "commit", "-q", "-m", message)


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "ops@aikinklab.test")
    git(path, "config", "user.name", "Ops Test")
    git(path, "config", "commit.gpgsign", "false")
    git(path, "config", "tag.gpgsign", "false")
    return path


@dataclass(frozen=True)
class AppRepo:
    path: Path
    branches: frozenset[str]
    tags: frozenset[str]


def make_app_repo(path: Path) -> AppRepo:
    """main + two feature branches, a merge, annotated and lightweight tags, a tag off every branch."""
    repo = init_repo(path)
    (repo / ".gitignore").write_text(".env*.local\nnode_modules/\nbackups/\nmonitoring/\n", encoding="utf-8")
    _commit(repo, "package.json", '{"name": "aikinklab", "scripts": {"build": "next build"}}\n', "app")
    _commit(repo, "vercel.json", '{"cleanUrls": true}\n', "vercel config")
    _commit(repo, "next.config.mjs", "export default { reactStrictMode: true };\n", "next config")
    _commit(repo, ".env.example", "DATABASE_URL=\nSTRIPE_SECRET_KEY=\n", "env example")
    _commit(repo, "config/site.json", '{"title": "AIKinkLab"}\n', "site config")
    _commit(repo, ".vercel/project.json", '{"orgId": "team_1", "projectId": "prj_1"}\n', "vercel project")
    _commit(repo, ".github/workflows/ci.yml", "on: push\njobs: {}\n", "ci")
    _commit(repo, "public/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>\n", "logo")
    _commit(repo, NON_ASCII, "# Café\n", "non-ascii name")
    git(repo, "tag", "v0.9")  # lightweight
    git(repo, "checkout", "-q", "-b", "feature/login")
    _commit(repo, "app/login/page.tsx", "export default function Login() { return null }\n", "login page")
    git(repo, "checkout", "-q", "-b", "feature/cart", "main")
    _commit(repo, "app/cart/page.tsx", "export default function Cart() { return null }\n", "cart page")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "README.md", "# AIKinkLab\n", "readme")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature/login", "feature/login")
    git(repo, "tag", "-a", "v1.0", "-m", "release 1.0")  # annotated
    # A tag whose commit is on no branch: clone alone would not bring it back.
    git(repo, "checkout", "-q", "-b", "spike")
    _commit(repo, "spike.txt", "experiment\n", "spike")
    git(repo, "tag", "-a", "spike-1", "-m", "kept spike")
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "spike")
    # Working-tree files a backup takes that git does not track.
    (repo / ".env.local").write_text(
        f"# local secrets\nSTRIPE_SECRET_KEY={SECRET}\nexport DATABASE_URL='postgres://u:{SECRET}@db/app'\n"
        f'MULTI="line one\n{SECRET}\nline three"\nPUBLIC_NAME=aikinklab\n',
        encoding="utf-8",
    )
    (repo / "public" / "hero.bin").write_bytes(bytes(range(256)) * 40)
    (repo / "monitoring").mkdir()
    (repo / "monitoring" / "uptime.json").write_text('{"uptime": 99.95}\n', encoding="utf-8")
    return AppRepo(
        repo,
        frozenset({"main", "feature/login", "feature/cart"}),
        frozenset({"v0.9", "v1.0", "spike-1"}),
    )
