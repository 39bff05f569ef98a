"""How much the concurrent verification saves: our wall time against the same requests in a row.

A loopback server answers every request after 200 ms; the config lists 40 pages. Printed: the
wall time of ``run_verification``, the slowest single check and the slowest single request in
it, the wall time of replaying exactly the requests the server saw one after another, and the
ratios. Target: wall <= 1.3 x the slowest single check.

    python3 benchmarks/verify_fanout.py [--delay 0.2] [--pages 40]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aikinklab_ops.http import make_session
from aikinklab_ops.verify import VerifySettings, run_verification
from aikinklab_ops.verify.settings import HealthSettings, LatencySettings, PageSpec

SEEN: list[tuple[str, str]] = []
LOCK = threading.Lock()
TIMES: list[float] = []


def make_handler(delay: float) -> type[BaseHTTPRequestHandler]:
    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, method: str, body: bool) -> None:
            t0 = time.perf_counter()
            with LOCK:
                SEEN.append((method, self.path))
            time.sleep(delay)
            if self.path.startswith("/api/health"):
                data, ctype = json.dumps({"status": "ok"}).encode(), "application/json"
            else:
                data, ctype = b"<!doctype html><title>AIKinkLab</title><h1>AIKinkLab</h1>", "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)
            with LOCK:
                TIMES.append(time.perf_counter() - t0)

        def do_GET(self) -> None:
            self._answer("GET", True)

        def do_HEAD(self) -> None:
            self._answer("HEAD", False)

        def do_OPTIONS(self) -> None:
            self._answer("OPTIONS", False)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Slow


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def measure(label: str, url: str, settings: VerifySettings) -> None:
    SEEN.clear()
    t0 = time.perf_counter()
    report = run_verification(url, settings)
    wall = time.perf_counter() - t0
    requests_seen = list(SEEN)
    slowest = max(report.checks, key=lambda c: c.duration_s)
    session = make_session(retries=0, timeout=10)
    single: list[float] = []
    t1 = time.perf_counter()
    for method, path in requests_seen:
        r0 = time.perf_counter()
        session.request(method, url + path, allow_redirects=False)
        single.append(time.perf_counter() - r0)
    sequential = time.perf_counter() - t1
    slowest_request = max(single)
    statuses = ", ".join(f"{c.name}={c.status.value}" for c in report.checks)
    print(f"== {label}")
    print(f"   checks: {statuses}")
    print(f"   requests made:                {len(requests_seen)}")
    print(f"   our wall time:                {wall:6.3f} s")
    print(f"   slowest single check:         {slowest.duration_s:6.3f} s ({slowest.name})")
    print(f"   slowest single request:       {slowest_request:6.3f} s")
    print(f"   same requests one by one:     {sequential:6.3f} s")
    print(f"   wall / slowest check:         {wall / slowest.duration_s:6.2f}  (target <= 1.30)")
    print(f"   wall / slowest request:       {wall / slowest_request:6.2f}")
    print(f"   sequential / wall (speed-up): {sequential / wall:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), make_handler(args.delay))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    pages = tuple(PageSpec(f"/page/{i}", f"page-{i}") for i in range(args.pages))
    base = VerifySettings(
        health=HealthSettings(deadline_s=5, retry_interval_s=0.2),
        pages=pages,
        checks=("health", "pages", "dns", "latency", "error-rate"),
    )
    print(f"loopback server: every answer after {args.delay * 1000:.0f} ms; {args.pages} pages")
    measure("default concurrency (pages 8, latency 5, 20 samples)", url, base)
    wide = replace(base, concurrency=args.pages, latency=LatencySettings(samples=20, concurrency=20))
    measure(f"wide concurrency (pages {args.pages}, latency 20, 20 samples)", url, wide)
    server.shutdown()


if __name__ == "__main__":
    main()
