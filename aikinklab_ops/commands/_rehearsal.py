"""The README's main command: the runbook rehearsed end to end on the built-in default.

Every step is the command an operator would type (parsed by the real CLI parser and run
in-process against a workspace and the local Vercel sandbox), so the rehearsal proves the
commands themselves, not a demo-only path: gate, a good release, a broken release that the
pipeline rolls back with a P1 incident, a full backup and its restore.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aikinklab_ops.commands import CommandContext, Document
from aikinklab_ops.config import load_config, load_context
from aikinklab_ops.errors import UsageError
from aikinklab_ops.examples.sinks import AlertSinks
from aikinklab_ops.examples.workspace import DEMO_SECRET, break_release, make_workspace
from aikinklab_ops.report import CheckResult, Report, Status
from aikinklab_ops.report.formats import render_markdown, render_text
from aikinklab_ops.sandbox import Sandbox
from aikinklab_ops.site.localca import LocalCA, server_context

Result = Report | Document


def _report_of(result: Result) -> Report | None:
    return result if isinstance(result, Report) else result.report


def _text_of(result: Result) -> str:
    report = _report_of(result)
    return render_text(report) if report is not None else result.text  # type: ignore[union-attr]


def _check(name: str, ok: bool, summary: str, details: dict[str, Any] | None = None) -> CheckResult:
    return CheckResult(name, Status.PASS if ok else Status.FAIL, summary, details or {})


def rehearse(ctx: CommandContext, *, keep: Path | None = None) -> Document:
    from aikinklab_ops.cli import build_parser

    parser = build_parser()
    started = time.monotonic()
    sections: list[str] = []
    steps: list[CheckResult] = []
    commands_run = 0
    data: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="aikinklab-rehearsal-") as tmp:
        base = keep.resolve() if keep else Path(tmp)
        if keep and base.exists() and any(base.iterdir()):
            raise UsageError(f"--keep {keep}: {base} is not empty", hint="name a new or empty folder")
        base.mkdir(parents=True, exist_ok=True)
        ca = LocalCA("aikinklab-ops rehearsal CA")
        tls = server_context(ca.issue(["localhost", "127.0.0.1"]))
        bundle = ca.write_bundle(base / "rehearsal-ca.pem")
        with AlertSinks() as sinks, Sandbox(base / "sandbox", build_delay=0.3, queue_delay=0.1, ssl_context=tls) as sb:
            repo = make_workspace(base, smtp_port=sinks.smtp_port, webhook_url=sinks.webhook_url)
            # Only the sandbox's credentials: the rehearsal must never reach a real Vercel or GitHub.
            env = {k: v for k, v in ctx.env.items() if not k.startswith(("VERCEL_", "GITHUB_"))} | sb.env()
            sub = dataclasses.replace(
                ctx,
                env=env,
                run=load_context(env),
                cwd=repo,
                _config=None,
                _loader=lambda: load_config(None, env=env, cwd=repo),
            )
            sub.redactor.add(sb.env().get("VERCEL_TOKEN"))
            sub.redactor.add(DEMO_SECRET)
            ctx.log(f"sandbox: Vercel API on {sb.api_url}, sites over HTTPS (CA {bundle})")
            ctx.log(f"workspace: {repo}")

            def step(title: str, argv: list[str], judge: Callable[[Result], tuple[bool, str]]) -> Result:
                nonlocal commands_run
                commands_run += 1
                ctx.log(f"\n== {commands_run}. {title}: aikinklab-ops {' '.join(argv)}")
                args = parser.parse_args(argv)
                t0 = time.monotonic()
                result: Result = args.handler(args, sub)
                ok, summary = judge(result)
                steps.append(dataclasses.replace(_check(title, ok, summary), duration_s=time.monotonic() - t0))
                sections.append(f"== {commands_run}. {title} — aikinklab-ops {' '.join(argv)}\n\n{_text_of(result)}")
                report = _report_of(result)
                data[title] = report.to_dict() if report is not None else result.data  # type: ignore[union-attr]
                return result

            def passed(result: Result) -> tuple[bool, str]:
                ok = result.ok if isinstance(result, Report) else result.exit_code == 0
                return ok, "passed" if ok else "failed (see above)"

            pipeline = ["pipeline", "--env", "production", "--path", "site", "--ca-bundle", str(bundle)]
            step("gate", ["gate", "--env", "production"], passed)
            step("good release", pipeline, passed)

            break_release(repo)

            def rolled_back(result: Result) -> tuple[bool, str]:
                report = _report_of(result)
                names = {c.name: c.status for c in report.checks} if report else {}
                ok = (
                    names.get("verify") is Status.FAIL
                    and names.get("rollback") is Status.PASS
                    and names.get("verify-after-rollback") is Status.PASS
                    and names.get("incident") is Status.PASS
                )
                what = "failed verification, rolled back, verified again, P1 incident opened"
                return ok, what if ok else f"expected a rollback and an incident, got {names}"

            step("broken release", pipeline, rolled_back)
            incidents = sorted((repo / "incidents").glob("*.md"))
            if incidents:
                body = incidents[0].read_text(encoding="utf-8").split("<!-- aikinklab-ops timeline -->")[0]
                shown = "\n".join(line for line in body.splitlines() if not line.startswith("<!--")).strip()
                sections.append(f"== the incident, as written to {incidents[0]}\n\n{shown}\n")
            with sinks.received.lock:
                mail = [f"email to {', '.join(m['to'])}: {m['subject']}" for m in sinks.received.emails]
                sms = [
                    f"sms webhook: {h['body'].get('severity')} {h['body'].get('title')}"
                    for h in sinks.received.webhooks
                    if isinstance(h["body"], dict)
                ]
            sections.append("== alerts received by the local sinks\n\n" + "\n".join(mail + sms or ["(none)"]) + "\n")
            steps.append(_check("alerts", bool(mail) and bool(sms), f"{len(mail)} email(s), {len(sms)} SMS"))

            served = sb.alias_url("www.aikinklab.com") or ""
            monitor = ["monitor", "--url", served, "--duration", "2s", "--interval", "1s", "--no-backup"]
            monitor += ["--ca-bundle", str(bundle)]
            step("monitor", monitor, passed)

            archive: dict[str, str] = {}

            def backed_up(result: Result) -> tuple[bool, str]:
                report = _report_of(result)
                if report is not None and report.ok:
                    archive["path"] = report.outputs.get("archive", "")
                    return bool(archive["path"]), f"archive {Path(archive['path']).name}"
                return False, "the backup failed"

            step(
                "backup",
                ["backup", "create", "full", "--repo", str(repo), "--output", str(base / "backups")],
                backed_up,
            )
            leaked = [p.name for p in (base / "backups").glob("*.tar.gz") if DEMO_SECRET.encode() in p.read_bytes()]
            steps.append(_check("no secret in the backup", not leaked, "the .env.local value is redacted"))
            if archive.get("path"):
                step("restore", ["restore", archive["path"], "--into", str(base / "restored")], passed)

    total = time.monotonic() - started
    summary = Report(kind="rehearsal", checks=tuple(steps), target="local sandbox", duration_s=total)
    text = "\n".join(sections) + "\n== rehearsal summary\n\n" + render_text(summary)
    if keep:
        text += f"\nthe workspace, sandbox state, backups and restore are kept in {base}\n"
    return Document(
        data={"rehearsal": summary.to_dict(), "steps": data},
        text=text,
        exit_code=0 if summary.ok else 1,
        outputs={"ok": "true" if summary.ok else "false"},
        markdown=render_markdown(summary),
    )
