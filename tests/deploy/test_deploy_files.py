"""What gets uploaded: exclusions, .vercelignore, env files, prebuilt output, limits, hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aikinklab_ops.deploy.files import collect_files, list_files, sha1_file
from aikinklab_ops.errors import InputError


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def names(root: Path, **kw: object) -> list[str]:
    return [rel for rel, _ in list_files(root, **kw)[1]]  # type: ignore[arg-type]


def test_usual_exclusions_and_env_files(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "package.json": b"{}",
            "app/page.tsx": b"x",
            ".git/HEAD": b"ref",
            "node_modules/react/index.js": b"x",
            "app/node_modules/x.js": b"x",
            ".next/cache/a": b"x",
            ".vercel/project.json": b"{}",
            ".env": b"SECRET=1",
            ".env.local": b"SECRET=1",
            ".env.production": b"SECRET=1",
            "app/.env.staging": b"SECRET=1",
            "environment.ts": b"ok",
            ".envrc.example": b"ok",
        },
    )
    assert names(tmp_path) == [".envrc.example", "app/page.tsx", "environment.ts", "package.json"]
    with_env = names(tmp_path, include_env_files=True)
    assert {".env", ".env.local", ".env.production", "app/.env.staging"} <= set(with_env)


def test_vercelignore_is_gitignore_syntax(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".vercelignore": b"# comment\n*.log\n/docs/\ncoverage\n!keep.log\n",
            "a.log": b"x",
            "keep.log": b"x",
            "docs/readme.md": b"x",
            "src/docs/inner.md": b"x",
            "coverage/lcov.info": b"x",
            "src/index.ts": b"x",
        },
    )
    assert names(tmp_path) == ["keep.log", "src/docs/inner.md", "src/index.ts"]


def test_config_ignore_patterns_add_to_vercelignore(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.ts": b"x", "tmp/b.ts": b"x"})
    assert names(tmp_path, extra_ignore=["tmp/"]) == ["a.ts"]


def test_prebuilt_output_is_used_when_present(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/index.ts": b"x",
            ".vercel/project.json": b"{}",
            ".vercel/output/config.json": b'{"version":3}',
            ".vercel/output/static/index.html": b"<h1>hi</h1>",
        },
    )
    prebuilt, pairs = list_files(tmp_path)
    assert prebuilt is True
    assert [p for p, _ in pairs] == [".vercel/output/config.json", ".vercel/output/static/index.html"]
    source, pairs = list_files(tmp_path, prebuilt=False)
    assert source is False and [p for p, _ in pairs] == ["src/index.ts"]


def test_prebuilt_requested_without_output_says_to_run_vercel_build(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.ts": b"x"})
    with pytest.raises(InputError, match="vercel build"):
        list_files(tmp_path, prebuilt=True)


def test_more_files_than_vercel_accepts_fails_before_hashing(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"f{i}.txt": b"x" for i in range(12)})
    hashed: list[int] = []
    with pytest.raises(InputError, match="12 files to deploy, more than the 10") as info:
        collect_files(tmp_path, max_files=10, on_hashed=hashed.append)
    assert hashed == []
    assert ".vercelignore" in (info.value.hint or "")


def test_nothing_left_to_deploy_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path, {".env": b"x", "node_modules/a": b"x"})
    with pytest.raises(InputError, match="nothing to deploy"):
        collect_files(tmp_path)


def test_hashes_sizes_and_dedup(tmp_path: Path) -> None:
    big = bytes(range(256)) * 9000  # > the 1 MiB read buffer
    make_tree(tmp_path, {"a.bin": big, "b/c.bin": big, "d.txt": b"hello"})
    fs = collect_files(tmp_path, workers=1)
    assert [(f.path, f.size) for f in fs.files] == [("a.bin", len(big)), ("b/c.bin", len(big)), ("d.txt", 5)]
    assert fs.files[0].sha == hashlib.sha1(big).hexdigest()
    assert len(fs.by_sha()) == 2, "identical content is one upload"
    assert fs.manifest()[2] == {"file": "d.txt", "sha": hashlib.sha1(b"hello").hexdigest(), "size": 5}


def test_threaded_hashing_keeps_order(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"d/{i:03}.txt": str(i).encode() for i in range(150)})
    fs = collect_files(tmp_path, workers=4)
    assert [f.path for f in fs.files] == sorted(f"d/{i:03}.txt" for i in range(150))
    assert all(f.sha == hashlib.sha1(f.abs_path.read_bytes()).hexdigest() for f in fs.files)


def test_sha1_of_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e").write_bytes(b"")
    assert sha1_file(tmp_path / "e") == (hashlib.sha1(b"").hexdigest(), 0)
