"""``sandbox``: run a local Vercel until interrupted, and say how to point the client at it.

The environment it prints (and writes to ``--env-file``) is the only difference between talking
to the sandbox and talking to Vercel, so a release can be rehearsed with the exact commands that
will later run against production.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.errors import UsageError
from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.site.localca import LocalCA, server_context

DEFAULT_STATE_DIR = Path(".aikinklab-ops") / "sandbox"
CA_FILE = "ca.pem"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from err
    if value < 0:
        raise argparse.ArgumentTypeError("a delay cannot be negative")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from err
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0 picks a free one)")
    return value


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="run a local Vercel-compatible API on 127.0.0.1 (for tests and release rehearsals)",
        description="Serve the subset of the Vercel API this tool uses, on loopback, until interrupted. "
        "Export the printed variables to point aikinklab-ops at it.",
    )
    parser.add_argument("--port", type=_port, default=0, help="API port (default: 0, a free port)")
    parser.add_argument(
        "--state-dir", metavar="DIR", help=f"uploaded files and built deployments (default: ./{DEFAULT_STATE_DIR})"
    )
    parser.add_argument(
        "--build-delay", type=_seconds, default=2.0, metavar="SECONDS", help="time a deployment spends BUILDING"
    )
    parser.add_argument(
        "--queue-delay", type=_seconds, metavar="SECONDS", help="time spent QUEUED (default: half the build delay)"
    )
    parser.add_argument("--project-name", default="aikinklab", help="the sandbox project's name")
    parser.add_argument("--project-id", default="prj_aikinklabsandbox", help="the sandbox project's id")
    parser.add_argument("--team-id", default="team_aikinklabsandbox", help="the team id (VERCEL_ORG_ID)")
    parser.add_argument(
        "--production-alias",
        action="append",
        metavar="DOMAIN",
        help="a production domain of the project (repeatable; default: <project>.vercel.app and www.aikinklab.com)",
    )
    parser.add_argument("--token", help="accept only this bearer token (default: any token)")
    parser.add_argument("--enforce-team", action="store_true", help="refuse requests without the team's teamId")
    parser.add_argument(
        "--no-auto-assign",
        action="store_true",
        help="production builds end STAGED; only a promote moves the production domains",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve deployments and aliases over HTTPS with a throwaway CA (written to <state-dir>/ca.pem)",
    )
    parser.add_argument("--env-file", metavar="PATH", help="also write the export lines to this file once listening")
    parser.add_argument(
        "--max-seconds", type=_seconds, metavar="SECONDS", help="stop by itself after this long (for scripts)"
    )
    parser.set_defaults(handler=run)


def build_sandbox(args: argparse.Namespace, ctx: CommandContext) -> Sandbox:
    state_dir = Path(args.state_dir) if args.state_dir else ctx.cwd / DEFAULT_STATE_DIR
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot use {state_dir} as the sandbox state folder: {err}") from err
    aliases = tuple(args.production_alias or (f"{args.project_name}.vercel.app", "www.aikinklab.com"))
    settings: dict[str, Any] = {
        "build_delay": args.build_delay,
        "queue_delay": args.queue_delay,
        "project_name": args.project_name,
        "project_id": args.project_id,
        "team_id": args.team_id,
        "production_aliases": aliases,
        "token": args.token,
        "enforce_team": args.enforce_team,
        "auto_assign_custom_domains": not args.no_auto_assign,
    }
    context = None
    if args.tls:
        ca = LocalCA("aikinklab-ops sandbox CA")
        context = server_context(ca.issue(["127.0.0.1", "localhost"]))
        ca.write_bundle(state_dir / CA_FILE)
    log = ctx.log if getattr(args, "verbose", False) else None
    return Sandbox(state_dir, port=args.port, log=log, ssl_context=context, **settings)


def exports(env: dict[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def run(args: argparse.Namespace, ctx: CommandContext) -> Document:
    sandbox = build_sandbox(args, ctx)
    try:
        sandbox.start()
    except OSError as err:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {err}", hint="pick another --port, or 0") from err
    started = time.monotonic()
    restore = _stop_on_sigterm()
    try:
        env = sandbox.env()
        lines = exports(env)
        if args.env_file:
            Path(args.env_file).write_text(lines, encoding="utf-8")
        ctx.log(f"Vercel sandbox listening on {sandbox.api_url} (state in {sandbox.state_dir})")
        ctx.log("Point aikinklab-ops at it with:\n" + lines.rstrip("\n"))
        ctx.log(f"Faults, state and recorded traffic: {sandbox.api_url}/_sandbox/{{faults,state,traffic}}")
        if args.tls:
            ctx.log(
                f"Sites are served over HTTPS; trust {sandbox.state_dir / CA_FILE} (e.g. --ca-bundle) to verify them"
            )

        try:
            while args.max_seconds is None or time.monotonic() - started < args.max_seconds:
                if sandbox.shutdown_requested.wait(0.05):
                    ctx.log("sandbox: shutdown requested over HTTP")
                    break
        except KeyboardInterrupt:
            ctx.log("sandbox: interrupted, shutting down")
        state = sandbox.app.state()
    finally:
        restore()
        sandbox.stop()
    count = len(state["deployments"])
    data = {
        "api_url": env["VERCEL_API_URL"],
        "state_dir": str(sandbox.state_dir),
        "deployments": count,
        "aliases": {alias: entry["deploymentId"] for alias, entry in state["aliases"].items()},
        "env": {k: v for k, v in env.items() if k != "VERCEL_TOKEN"},
        "ca_bundle": str(sandbox.state_dir / CA_FILE) if args.tls else None,
    }
    text = f"sandbox stopped after {time.monotonic() - started:.1f}s: {count} deployment(s) in {sandbox.state_dir}"
    return Document(data, text)


def _stop_on_sigterm() -> Any:
    """Turn SIGTERM into the same clean stop as Ctrl-C (only possible on the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)
