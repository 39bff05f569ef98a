"""``verify``: is the deployment at this URL healthy enough to trust with production traffic?"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aikinklab_ops.commands import CommandContext, input_file
from aikinklab_ops.report import Report
from aikinklab_ops.secrets import url_secrets
from aikinklab_ops.verify import CHECK_NAMES, VerifySettings, parse_only, run_verification, target_url


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "verify",
        help="verify a deployment: health, pages, security headers, TLS, DNS, latency, error rate",
        description="Run the post-deploy checks against a URL and report each one; exit 1 if any fails.",
    )
    parser.add_argument("--url", metavar="URL", help="the deployment to verify (default: environments.<env>.url)")
    parser.add_argument(
        "--env",
        default="production",
        metavar="ENV",
        help="environment whose url to verify: production (default), staging, preview",
    )
    parser.add_argument(
        "--only", metavar="CHECK,...", help=f"run only these checks, comma-separated: {', '.join(CHECK_NAMES)}"
    )
    parser.add_argument(
        "--ca-bundle", metavar="PATH", type=Path, help="trust this PEM CA bundle instead of the system store"
    )
    parser.add_argument(
        "--vitals",
        metavar="PATH",
        nargs="+",
        action="extend",
        type=Path,
        default=[],
        help="Lighthouse / web-vitals reports to judge against the Core Web Vitals budgets (adds the web-vitals check)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> Report:
    # A preview URL can carry a token (?x-vercel-protection-bypass=…); mask it in everything printed.
    for secret in url_secrets(args.url or ""):
        ctx.redactor.add(secret)
    only = parse_only(args.only)
    cfg = ctx.config
    settings = VerifySettings.from_config(cfg)
    url = target_url(cfg, url=args.url, env=args.env)
    for secret in url_secrets(url):
        ctx.redactor.add(secret)
    ca_bundle = input_file(args.ca_bundle, "--ca-bundle", ctx.cwd)
    vitals = [p for p in (input_file(v, "--vitals", ctx.cwd) for v in args.vitals) if p is not None]
    return run_verification(
        url, settings, checks=only, ca_bundle=ca_bundle, vitals=vitals, config=cfg, progress=ctx.progress()
    )
