"""The sandbox on the wire: the API on one loopback port, each deployment and alias on its own.

``Sandbox`` is what tests, the demo and ``aikinklab-ops sandbox`` start. One port per served
deployment and per alias keeps the site hosts plain static servers (no Host-header routing), and
an alias's host asks for its folder on every request, so re-pointing an alias switches what it
serves at once. ``/_sandbox/...`` is the control plane (faults, state, recorded traffic); it
needs no token, is never faulted and is never recorded.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from aikinklab_ops.sandbox.app import ApiRequest, ApiResponse, Exchange, SandboxApp, SandboxSettings
from aikinklab_ops.sandbox.faults import FaultError, Faults
from aikinklab_ops.sandbox.model import Deployment, Project
from aikinklab_ops.site.server import SiteServer

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - any bearer token is accepted; this one is printed
_MAX_BODY = 256 * 1024 * 1024


class SiteServing:
    """Starts a ``SiteServer`` per READY deployment and per alias; stops them all at the end."""

    def __init__(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self._servers: list[SiteServer] = []
        self._lock = threading.Lock()

    def serve_deployment(self, deployment_id: str, folder: Path) -> str:
        return self._start(lambda: folder)

    def serve_alias(self, alias: str, root: Callable[[], Path | None]) -> str:
        return self._start(root)

    def _start(self, root: Callable[[], Path | None]) -> str:
        server = SiteServer(root, host=self.host, port=0, ssl_context=self.ssl_context).start()
        with self._lock:
            self._servers.append(server)
        return server.url

    def stop(self) -> None:
        with self._lock:
            servers, self._servers = self._servers, []
        for server in servers:
            server.stop()


class _Handler(BaseHTTPRequestHandler):
    server_version = "aikinklab-sandbox"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _ApiServer

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle plus the client's
        # delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.log
        if log is not None:
            log(f"sandbox: {self.address_string()} {format % args}")

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        app = self.server.app
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            body = self._read_body()
            if body is None:
                return
            self._send(self.server.control(self.command, path, body))
            return
        drop = app.take_drop(self.command, path)
        if drop is not None:
            self._drop(drop.after_bytes)
            return
        body = self._read_body()
        if body is None:
            return
        resp = app.handle(ApiRequest.build(self.command, self.path, self.headers.items(), body))
        if app.faults.take("drop_response", self.command, path) is not None:
            self._drop(0)
            return
        self._send(resp)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            # The body was not read, so the connection cannot carry another request.
            self.close_connection = True
            self._send(ApiResponse.error(400, "bad_request", "Content-Length is missing a sane value"))
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _drop(self, after_bytes: int) -> None:
        """Read ``after_bytes`` of the body (unless already read), then reset the connection."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if after_bytes and length:
            self.rfile.read(min(after_bytes, length))
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, resp: ApiResponse) -> None:
        if resp.stream is not None:
            self._send_stream(resp)
            return
        self.send_response(resp.status)
        for key, value in resp.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    def _send_stream(self, resp: ApiResponse) -> None:
        assert resp.stream is not None
        self.close_connection = True
        stream = resp.stream
        try:
            self.send_response(resp.status)
            for key, value in resp.headers:
                self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            for chunk in stream:
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            pass  # the client stopped listening
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        app: SandboxApp,
        control: Callable[[str, str, bytes], ApiResponse],
        log: Callable[[str], None] | None,
    ) -> None:
        self.app = app
        self.control = control
        self.log = log
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (or a dropped upload) is not the server's error.
        pass


class Sandbox:
    """A local Vercel: start it, point a client at ``env()``, and look at what it did.

    ``with Sandbox(build_delay=0.01) as sb: ...`` runs the API and the site hosts in threads on
    free loopback ports; ``state_dir`` (a temporary folder by default, removed at the end) holds
    the uploaded files, content-addressed, and each READY deployment's materialised folder.
    ``ssl_context`` makes the site hosts (not the API) answer HTTPS, for real TLS checks.
    Keyword arguments other than the ones below are ``SandboxSettings`` fields.
    """

    def __init__(
        self,
        state_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        **settings: Any,
    ) -> None:
        self.settings = SandboxSettings(**settings)
        self._temp = state_dir is None
        self.state_dir = Path(tempfile.mkdtemp(prefix="aikinklab-sandbox-")) if state_dir is None else Path(state_dir)
        self.host = host
        self._port = port
        self._log = log
        self.faults = Faults()
        self.serving = SiteServing(host, ssl_context)
        self.app = SandboxApp(self.state_dir, self.settings, faults=self.faults, clock=clock, serving=self.serving)
        self._server: _ApiServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        # Set by ``POST /_sandbox/shutdown``; whoever runs the sandbox decides to stop on it.
        self.shutdown_requested = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _ApiServer((self.host, self._port), self.app, self._control, self._log)
        api = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-api", daemon=True
        )
        self._threads = [api]
        api.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self._stop.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self.app.flush()
        self.serving.stop()
        if self._temp:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def serve_forever(self) -> None:
        """Run until interrupted (the CLI's loop); ``KeyboardInterrupt`` propagates after cleanup."""
        self.start()
        try:
            while not self.shutdown_requested.wait(0.2):
                pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- where things are -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return self.settings.token or DEFAULT_TOKEN

    def env(self) -> dict[str, str]:
        """The environment that points the client at this sandbox instead of Vercel."""
        return {
            "VERCEL_API_URL": self.api_url,
            "VERCEL_TOKEN": self.token,
            "VERCEL_PROJECT_ID": self.settings.project_id,
            "VERCEL_ORG_ID": self.settings.team_id,
        }

    def deployment(self, id_or_url: str) -> Deployment | None:
        return self.app.deployment(id_or_url)

    def project(self, id_or_name: str | None = None) -> Project | None:
        return self.app.project(id_or_name)

    def deployment_url(self, id_or_url: str) -> str | None:
        """The loopback URL serving a READY deployment's files (None before it is READY)."""
        dep = self.app.deployment(id_or_url)
        return dep.sandbox_url if dep is not None else None

    def alias_url(self, alias: str) -> str | None:
        """The loopback URL serving whatever ``alias`` points at now (None if never assigned)."""
        self.app.advance()
        return self.app.alias_url(alias)

    def alias_target(self, alias: str) -> str | None:
        self.app.advance()
        return self.app.alias_target(alias)

    def wait_for(self, id_or_url: str, states: tuple[str, ...] = ("READY",), timeout: float = 10.0) -> Deployment:
        """Block until the deployment reaches one of ``states``; a test helper, not a client one."""
        deadline = time.monotonic() + timeout
        while True:
            dep = self.app.deployment(id_or_url)
            if dep is not None and dep.state in states:
                return dep
            if time.monotonic() > deadline:
                state = dep.state if dep else "missing"
                raise TimeoutError(f"deployment {id_or_url} is {state}, not {'/'.join(states)}, after {timeout}s")
            time.sleep(0.005)

    @property
    def traffic(self) -> list[Exchange]:
        """Every API request answered so far (control endpoints excluded), oldest first."""
        return self.app.traffic

    def clear_traffic(self) -> None:
        self.app.clear_traffic()

    # -- control plane ----------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> ApiResponse:
        if path == "/_sandbox/health" and method == "GET":
            return ApiResponse.of(200, {"ok": True, "apiUrl": self.api_url})
        if path == "/_sandbox/shutdown" and method == "POST":
            self.shutdown_requested.set()
            return ApiResponse.of(202, {"stopping": True})
        if path == "/_sandbox/env" and method == "GET":
            return ApiResponse.of(200, self.env())
        if path == "/_sandbox/state" and method == "GET":
            return ApiResponse.of(200, {"apiUrl": self.api_url, **self.app.state()})
        if path == "/_sandbox/traffic":
            if method == "GET":
                return ApiResponse.of(200, [e.to_dict() for e in self.traffic])
            if method == "DELETE":
                self.clear_traffic()
                return ApiResponse.of(200, {"cleared": True})
        if path == "/_sandbox/faults":
            if method == "GET":
                return ApiResponse.of(
                    200, {"armed": [f.to_dict() for f in self.faults.pending()], "fired": list(self.faults.history)}
                )
            if method == "DELETE":
                self.faults.clear()
                return ApiResponse.of(200, {"cleared": True})
            if method == "POST":
                try:
                    spec = json.loads(body or b"null")
                    specs = spec if isinstance(spec, list) else [spec]
                    armed = [self.faults.add(item) for item in specs]
                except ValueError as err:  # FaultError is a ValueError, and so is bad JSON
                    code = "invalid_fault" if isinstance(err, FaultError) else "bad_request"
                    return ApiResponse.error(400, code, str(err))
                return ApiResponse.of(201, {"armed": [f.to_dict() for f in armed]})
        if path.startswith("/_sandbox/projects/") and method == "PATCH":
            return self._configure_project(path.removeprefix("/_sandbox/projects/"), body)
        return ApiResponse.error(404, "not_found", f"no sandbox control endpoint {method} {path}")

    def _configure_project(self, ref: str, body: bytes) -> ApiResponse:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return ApiResponse.error(400, "bad_request", "the body is not JSON")
        if not isinstance(spec, dict) or set(spec) - {"autoAssignCustomDomains", "productionAliases"}:
            return ApiResponse.error(
                400, "bad_request", "send an object with autoAssignCustomDomains and/or productionAliases"
            )
        auto = spec.get("autoAssignCustomDomains")
        aliases = spec.get("productionAliases")
        if auto is not None and not isinstance(auto, bool):
            return ApiResponse.error(400, "bad_request", "autoAssignCustomDomains must be true or false")
        if aliases is not None and not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
            return ApiResponse.error(400, "bad_request", "productionAliases must be a list of domains")
        try:
            project = self.app.configure_project(unquote(ref), auto_assign=auto, production_aliases=aliases)
        except (KeyError, ValueError) as err:
            return ApiResponse.error(400, "bad_request", str(err).strip("'\""))
        return ApiResponse.of(
            200,
            {
                "id": project.id,
                "name": project.name,
                "autoAssignCustomDomains": project.auto_assign,
                "productionAliases": list(project.production_aliases),
            },
        )
