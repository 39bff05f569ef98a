"""A local host that serves a deployment folder the way Vercel's edge would.

The folder is asked for on every request (``root()``), so one server can be pointed at another
deployment while it runs: the Vercel sandbox moves an alias by changing what ``root`` returns.
Answers follow the folder's ``vercel.json`` (see ``rules``); files outside the folder, through
``..`` or a symlink, are never served, and neither is ``vercel.json`` itself.
"""

from __future__ import annotations

import json
import mimetypes
import re
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from aikinklab_ops.errors import InputError
from aikinklab_ops.site.rules import VERCEL_JSON, Resolution, SiteRules

_TEXT_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}
_JSON_TYPES = {".json": "application/json", ".webmanifest": "application/manifest+json"}
_DEFAULT_CACHE = "public, max-age=0, must-revalidate"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_URL = re.compile(r"[\x00-\x20\x7f-\U0010ffff]")


def _escape(m: re.Match[str]) -> str:
    return quote(m.group(0), safe="")


_MESSAGES = {
    400: "400: BAD_REQUEST",
    404: "404: NOT_FOUND",
    500: "500: INTERNAL_SERVER_ERROR",
    502: "502: BAD_GATEWAY",
}


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in _TEXT_TYPES:
        return f"{_TEXT_TYPES[suffix]}; charset=utf-8"
    if suffix in _JSON_TYPES:
        return f"{_JSON_TYPES[suffix]}; charset=utf-8"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def inside(root: Path, rel: str) -> Path | None:
    """The regular file ``rel`` names under ``root``, or None when it is missing or escapes."""
    try:
        base = root.resolve(strict=True)
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if target != base and base not in target.parents:
        return None
    return target if target.is_file() else None


class _RulesCache:
    """``vercel.json`` parsed once per (folder, mtime, size), not once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._rules = SiteRules()

    def get(self, root: Path) -> SiteRules:
        path = root / VERCEL_JSON
        try:
            st = path.stat()
        except FileNotFoundError:
            return SiteRules()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key != self._key:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as err:
                    raise InputError(f"{path}: not valid JSON: {err}", hint="fix the deployment's vercel.json") from err
                self._rules = SiteRules.from_vercel_json(data, where=str(path))
                self._key = key
            return self._rules


class _Handler(BaseHTTPRequestHandler):
    server_version = "aikinklab-site"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each keep-alive answer waits for the
    # peer's delayed ACK (~40 ms), which latency checks would then report as the site's own.
    disable_nagle_algorithm = True
    timeout = 15
    server: _Server

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, *, send_body: bool) -> None:
        parts = urlsplit(self.path)
        root = self.server.root()
        body: bytes
        ctype = "text/plain; charset=utf-8"
        if root is None:
            res = Resolution(404, error_code="DEPLOYMENT_NOT_FOUND")
            body = b"404: NOT_FOUND\nCode: DEPLOYMENT_NOT_FOUND\n"
        else:
            try:
                rules = self.server.rules.get(root)
            except InputError:
                res = Resolution(500, error_code="INVALID_VERCEL_JSON")
                body = b"500: INTERNAL_SERVER_ERROR\nCode: INVALID_VERCEL_JSON\n"
            else:
                res = rules.resolve(
                    parts.path or "/",
                    lambda rel: inside(root, rel) is not None,
                    query=parts.query,
                    host=(self.headers.get("Host") or "").split(":")[0] or None,
                    headers=dict(self.headers.items()),
                )
                body, ctype = self._body(root, res)
        self.send_response(res.status)
        has = {k.lower() for k, _ in res.headers}
        for key, value in res.headers:
            self.send_header(key, _CONTROL.sub(_escape, value))
        if "content-type" not in has:
            self.send_header("Content-Type", ctype)
        if "cache-control" not in has:
            self.send_header("Cache-Control", _DEFAULT_CACHE)
        if res.location is not None:
            # The path was decoded to match the rules; on the wire it is a URL again, so a %0d%0a
            # in the request cannot end the header and a non-ASCII character goes as UTF-8 escapes.
            self.send_header("Location", _NOT_URL.sub(_escape, res.location))
        if res.error_code:
            self.send_header("X-Vercel-Error", res.error_code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _body(self, root: Path, res: Resolution) -> tuple[bytes, str]:
        if res.file is not None:
            path = inside(root, res.file)
            if path is not None:
                try:
                    return path.read_bytes(), content_type(res.file)
                except OSError:
                    pass
        if res.location is not None:
            return f"Redirecting to {res.location} ({res.status})\n".encode(), "text/plain; charset=utf-8"
        text = _MESSAGES.get(res.status, str(res.status))
        code = f"\nCode: {res.error_code}" if res.error_code else ""
        return f"{text}{code}\n".encode(), "text/plain; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # Verification fans out dozens of connections at once; the default backlog of 5 would drop
    # some and cost each a one-second SYN retry.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        root: Callable[[], Path | None],
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.root = root
        self.rules = _RulesCache()
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs in the request's own thread, so one slow client cannot stall
            # the accept loop.
            conn = self.ssl_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or refuses our certificate is not the server's error.
        pass


class SiteServer:
    """Serve ``root()`` on ``host:port`` (port 0 picks a free one) until ``stop()``."""

    def __init__(
        self,
        root: Callable[[], Path | None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._root = root
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), self._root, self._ssl)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="site-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the site server is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        host = self._host if ":" not in self._host else f"[{self._host}]"
        return f"{scheme}://{host}:{self.port}"


def folder(path: Path) -> Callable[[], Path | None]:
    """A ``root`` for a server that always serves one folder."""
    return lambda: path
