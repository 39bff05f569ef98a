"""``config check`` and ``config show``: is my ops.yml right, and what does the tool really use?"""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from aikinklab_ops.commands import CommandContext, Document


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="check or show the effective configuration")
    cmds = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cmds.add_parser("check", help="validate the config file and report where it came from")
    check.set_defaults(handler=run_check)
    show = cmds.add_parser("show", help="print the effective config (defaults merged, secrets masked)")
    show.set_defaults(handler=run_show)


def run_check(args: argparse.Namespace, ctx: CommandContext) -> Document:
    cfg = ctx.config
    sections = sorted(cfg.data)
    text = f"{cfg.source}: valid ({len(sections)} sections: {', '.join(sections)})"
    return Document({"ok": True, "source": cfg.source, "sections": sections}, text, outputs={"source": cfg.source})


def run_show(args: argparse.Namespace, ctx: CommandContext) -> Document:
    cfg = ctx.config
    masked = cfg.masked()
    text = f"# effective configuration from {cfg.source}\n" + yaml.safe_dump(
        masked, sort_keys=False, allow_unicode=True
    )
    return Document({"source": cfg.source, "config": masked}, text)
