"""``demo``: the runbook rehearsed on the built-in default (``--verify-only``: the example site verified).

The site is served on loopback over real HTTPS, from a certificate authority made for this run
and handed to the TLS check as its CA bundle, so every check does its real work.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.config import Config
from aikinklab_ops.config.loader import defaults
from aikinklab_ops.report import Report
from aikinklab_ops.site.example import example_site
from aikinklab_ops.site.localca import LocalCA, server_context
from aikinklab_ops.site.server import SiteServer, folder
from aikinklab_ops.verify import VerifySettings, run_verification
from aikinklab_ops.verify.settings import PageSpec

HOST = "localhost"
PAGES = (
    PageSpec("/", "home", 200, contains="AIKinkLab"),
    PageSpec("/about", "about", 200, contains="About AIKinkLab"),
    PageSpec("/pricing", "pricing", 200, contains="Pricing"),
    PageSpec("/home", "old home redirects", 308),
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="rehearse the runbook on a local Vercel sandbox: gate, release, broken release rolled back, backup, "
        "restore (no account or network needed)",
        description="Rehearse the whole runbook with no account and no network: start a local Vercel sandbox, run "
        "the gates on example artifacts, release the bundled example site to production and verify it, release a "
        "broken version and watch the pipeline roll back and open a (local) incident, then back the repository up "
        "and restore it. With --verify-only: just serve the example site over HTTPS and verify it.",
    )
    parser.add_argument("--verify-only", action="store_true", help="only serve the example site and verify it")
    parser.add_argument("--samples", type=int, default=10, metavar="N", help="latency samples (--verify-only)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the workspace, backups and restore in DIR")
    parser.set_defaults(handler=run)


def demo_settings(samples: int) -> VerifySettings:
    base = VerifySettings.from_config(Config(data=defaults()))
    return replace(
        base,
        timeout_s=5.0,
        pages=PAGES,
        health=replace(base.health, deadline_s=5.0, retry_interval_s=0.2),
        latency=replace(base.latency, samples=max(1, samples)),
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> Report | Document:
    if not args.verify_only:
        from aikinklab_ops.commands._rehearsal import rehearse

        return rehearse(ctx, keep=args.keep)
    return verify_example(args, ctx)


def verify_example(args: argparse.Namespace, ctx: CommandContext) -> Report:
    ca = LocalCA("aikinklab-ops demo CA")
    tls = server_context(ca.issue([HOST, "127.0.0.1"]))
    with tempfile.TemporaryDirectory(prefix="aikinklab-demo-") as tmp, example_site() as root:
        bundle = ca.write_bundle(Path(tmp) / "demo-ca.pem")
        with SiteServer(folder(root), host="127.0.0.1", ssl_context=tls) as server:
            url = f"https://{HOST}:{server.port}"
            ctx.log(f"serving the example site at {url} (certificate from a throwaway local CA)")
            return run_verification(url, demo_settings(args.samples), ca_bundle=bundle, progress=ctx.progress())
