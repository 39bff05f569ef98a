"""Benchmark: ``backup create full`` against ``git bundle create --all`` + ``tar czf`` of the same content.

Builds a throwaway repository with ``--size`` MB of static assets (mostly incompressible, like
images, plus some text), then times, in the same run and on the same files:

  baseline  git bundle create --all, then tar czf (gzip -6) of bundle + assets + config + monitoring
  ours      aikinklab-ops backup create full (hash pass, stream, full verification drill)

and prints wall times, their ratio (target <= 1.3x) and the peak RSS of our process (target
< 150 MB, flat as the data grows). Our gzip level is 6, the same as tar czf's default.

    python benchmarks/backup.py --size 200
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FILE_MB = 8


def sh(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, size_mb: int) -> Path:
    repo = root / "app"
    repo.mkdir()
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    sh("git", "config", "user.email", "bench@example.test", cwd=repo)
    sh("git", "config", "user.name", "bench", cwd=repo)
    (repo / ".gitignore").write_text("public/media/\nbackups/\nmonitoring/\n.env*.local\n")
    (repo / "package.json").write_text('{"name": "bench"}\n')
    (repo / "vercel.json").write_text("{}\n")
    for i in range(50):
        src = repo / "app" / f"page{i}.tsx"
        src.parent.mkdir(exist_ok=True)
        src.write_text(f"export default function P{i}() {{ return <p>{i}</p> }}\n" * 20)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-q", "-m", "app", cwd=repo)
    for b in ("staging", "feature/a"):
        sh("git", "branch", b, cwd=repo)
    sh("git", "tag", "-a", "v1", "-m", "v1", cwd=repo)
    media = repo / "public" / "media"
    media.mkdir(parents=True)
    remaining = size_mb
    i = 0
    text = (b"lorem ipsum dolor sit amet, consectetur adipiscing elit " * 20 + b"\n") * 1000
    while remaining > 0:
        mb = min(FILE_MB, remaining)
        with open(media / f"asset{i:04d}.bin", "wb") as fh:
            if i % 5 == 4:  # one file in five compresses well (svg, json, text)
                while fh.tell() < mb * 1024 * 1024:
                    fh.write(text)
                fh.truncate(mb * 1024 * 1024)
            else:
                fh.write(os.urandom(mb * 1024 * 1024))
        remaining -= mb
        i += 1
    (repo / "monitoring").mkdir()
    (repo / "monitoring" / "uptime.json").write_text('{"uptime": 99.9}\n')
    return repo


def baseline(repo: Path, out: Path) -> float:
    out.mkdir()
    t0 = time.monotonic()
    sh("git", "bundle", "create", "-q", str(out / "repository.bundle"), "--all", cwd=repo)
    sh(
        "tar", "czf", str(out / "baseline.tar.gz"),
        "-C", str(out), "repository.bundle",
        "-C", str(repo), "public", "monitoring", "package.json", "vercel.json",
        cwd=repo,
    )  # fmt: skip
    return time.monotonic() - t0


def _watch_rss(pid: int, peak: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            return
        time.sleep(0.05)


def ours(repo: Path, out: Path) -> tuple[float, int, int]:
    """Wall time, peak RSS of our Python process (kB), peak RSS of any process in the run (kB)."""
    exe = shutil.which("aikinklab-ops")
    cmd = [exe] if exe else [sys.executable, "-m", "aikinklab_ops"]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, "--format", "json", "backup", "create", "full", "--output", str(out)],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = [0]
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_rss, args=(proc.pid, peak, stop), daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - t0
    stop.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"backup create failed:\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, peak[0], usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024, help="MB of assets (default 1024)")
    parser.add_argument("--workdir", help="where to build the repository (default: a temp dir)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="aikinklab-bench-", dir=args.workdir))
    try:
        print(f"building a repository with {args.size} MB of assets in {root} …", flush=True)
        repo = make_repo(root, args.size)
        base_s = baseline(repo, root / "baseline")
        base_size = (root / "baseline" / "baseline.tar.gz").stat().st_size
        shutil.rmtree(root / "baseline")
        our_s, rss_kb, any_kb = ours(repo, root / "ours")
        archive = next((root / "ours").glob("*.tar.gz"))
        print(f"assets                          {args.size} MB")
        print(f"git bundle --all + tar czf      {base_s:8.2f} s   ({base_size / 1e6:.1f} MB)")
        print(f"aikinklab-ops backup create     {our_s:8.2f} s   ({archive.stat().st_size / 1e6:.1f} MB, verified)")
        print(f"ratio                           {our_s / base_s:8.2f} x   (target <= 1.3 x)")
        print(f"peak RSS, our process           {rss_kb / 1024:8.1f} MB  (target < 150 MB)")
        print(f"peak RSS, any process (git too) {any_kb / 1024:8.1f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
