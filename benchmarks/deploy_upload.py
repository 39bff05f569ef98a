"""Deploy upload benchmark: a 5,000-file tree deployed twice to the local sandbox, and hashing speed.

Prints, for the first deploy and for an unchanged second one, the files and bytes uploaded (the
second should upload nothing), and the throughput of our streaming SHA-1 next to ``sha1sum`` over
the same files (target: at least 0.8x). Figures only, no asserts:

    python benchmarks/deploy_upload.py [--files 5000] [--avg-kib 16]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aikinklab_ops.deploy import DeployRequest, DeploySettings, EnvironmentTarget, PollPolicy, deploy
from aikinklab_ops.deploy.files import hash_files, list_files
from aikinklab_ops.http import make_session
from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.vercel import VercelClient


def make_tree(root: Path, n: int, avg_kib: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    total = 0
    for i in range(n):
        size = max(1, int(rnd.expovariate(1 / (avg_kib * 1024))))
        d = root / f"dir{i % 50:02}" / f"sub{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:05}.bin").write_bytes(os.urandom(size))
        total += size
    return total


def best_of(n: int, fn: object) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--avg-kib", type=int, default=16)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    try:
        app = work / "app"
        total = make_tree(app, args.files, args.avg_kib)
        print(f"tree: {args.files} files, {total / 1e6:.1f} MB")

        _, pairs = list_files(app)
        paths = [str(p) for _, p in pairs]
        ours = {w: best_of(3, lambda w=w: hash_files(pairs, workers=w)) for w in (1, 4)}
        listing = "\0".join(paths).encode()
        if shutil.which("sha1sum"):

            def sha1sum() -> None:
                subprocess.run(["xargs", "-0", "sha1sum"], input=listing, stdout=subprocess.DEVNULL, check=True)

            theirs = best_of(3, sha1sum)
            print(f"sha1sum:            {total / theirs / 1e6:8.1f} MB/s ({theirs:.3f}s)")
        else:
            theirs = None
            print("sha1sum: not installed")
        for w, t in ours.items():
            ratio = f" = {theirs / t:.2f}x sha1sum" if theirs else ""
            print(f"ours ({w} thread{'s' if w > 1 else ''}):     {total / t / 1e6:8.1f} MB/s ({t:.3f}s){ratio}")

        with Sandbox(work / "state", build_delay=0.05, queue_delay=0.02) as sb:
            env = sb.env()
            client = VercelClient(
                make_session(pool_maxsize=max(32, args.concurrency)),
                env["VERCEL_TOKEN"],
                env["VERCEL_API_URL"],
                team_id=env["VERCEL_ORG_ID"],
                project_id=env["VERCEL_PROJECT_ID"],
            )
            settings = DeploySettings(concurrency=args.concurrency, poll=PollPolicy((0.05,), 1), timeout_s=120)
            request = DeployRequest(path=app, environment=EnvironmentTarget("preview"))
            for label in ("first deploy", "second deploy (unchanged)"):
                t0 = time.perf_counter()
                result = deploy(settings, client, request)
                took = time.perf_counter() - t0
                print(
                    f"{label:27}: {result.state}, {result.files_uploaded}/{result.files_total} files and "
                    f"{result.bytes_uploaded / 1e6:.1f}/{result.bytes_total / 1e6:.1f} MB uploaded in {took:.2f}s"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
