"""Regressions found by pointing ``verify`` at servers that misbehave, and by interrupting it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from verify_helpers import NOW, write

from aikinklab_ops.report import Status
from aikinklab_ops.site.localca import LocalCA
from aikinklab_ops.verify import VerifySettings, run_verification
from aikinklab_ops.verify.health import judge_health
from aikinklab_ops.verify.settings import HealthSettings, PageSpec, TlsSettings
from aikinklab_ops.verify.tls import judge_certificate


def _response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return f"HTTP/1.1 {status}\r\n{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body


@contextmanager
def raw_server(answer: Callable[[str], bytes | None]) -> Iterator[str]:
    """A loopback HTTP server that answers each request line with raw bytes (None: never answer)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        out = answer(data.split(b"\r\n", 1)[0].decode())
        if out is None:
            stop.wait(60)
            return
        conn.sendall(out)
        conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        srv.close()
        for c in conns:
            c.close()


def _settings(**kw: object) -> VerifySettings:
    base = VerifySettings(timeout_s=2.0, health=HealthSettings(deadline_s=0.0, retry_interval_s=0.05))
    from dataclasses import replace

    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_malformed_location_header_fails_the_checks_instead_of_crashing_them() -> None:
    bad = _response("302 Found", [("Location", "http://[::1")])
    with raw_server(lambda line: bad) as url:
        report = run_verification(url, _settings(), checks=["health", "pages", "security-headers", "latency"])
    for check in report.checks:
        assert check.status is Status.FAIL, (check.name, check.summary)
        assert "crashed" not in check.summary


def test_a_health_body_nested_too_deep_to_parse_is_a_failure_not_a_crash() -> None:
    verdict = judge_health(200, {"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000, HealthSettings())
    assert verdict.status is Status.FAIL
    assert "not a JSON object" in verdict.summary


def test_a_certificate_that_expired_a_day_ago_says_one_day() -> None:
    ca = LocalCA()
    issued = ca.issue(["localhost"], not_before=NOW - timedelta(days=90), not_after=NOW - timedelta(days=1, hours=1))
    result = judge_certificate(issued.cert, host="localhost", now=NOW, settings=TlsSettings(), chain_verified=True)
    assert result.status is Status.FAIL
    assert "expired 1 day(s) ago" in result.summary


def test_ctrl_c_against_a_silent_server_exits_130_at_once(tmp_path: Path) -> None:
    """Every request hangs; interrupting must not wait out the in-flight requests' timeouts."""
    write(
        tmp_path / "ops.yml",
        "verify:\n  timeout_s: 30\n  health: {deadline_s: 120}\n  latency: {samples: 20, concurrency: 5}\n",
    )
    with raw_server(lambda line: None) as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aikinklab_ops", "verify", "--url", url],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            assert proc.stderr is not None
            proc.stderr.readline()  # "verify ...: started": the checks are in flight
            time.sleep(0.5)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
            took = time.monotonic() - t0
        finally:
            proc.kill()
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert text.rstrip().endswith("interrupted")
    assert out == b""
    assert took < 5, f"took {took:.1f}s to exit after Ctrl-C"


@pytest.mark.parametrize("status", ["301 Moved", "308 Permanent Redirect"])
def test_a_bad_redirect_target_on_a_page_is_named(status: str) -> None:
    bad = _response(status, [("Location", "http://[::1")])
    with raw_server(lambda line: bad) as url:
        report = run_verification(url, _settings(pages=(PageSpec("/", "home"),)), checks=["pages"])
    assert report.check("pages").status is Status.FAIL
    assert "Location" in report.check("pages").summary


@pytest.mark.parametrize("url", ["https://a..b.invalid/", "https://" + "a" * 70 + ".invalid/"])
def test_a_host_name_no_resolver_accepts_is_a_usage_error_not_seven_crashes(url: str) -> None:
    from aikinklab_ops.errors import UsageError

    with pytest.raises(UsageError, match="host"):
        run_verification(url, VerifySettings())
