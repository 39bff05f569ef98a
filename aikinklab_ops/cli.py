"""``aikinklab-ops``: parse, build, run, render, and map errors to exit codes in one place.

Exit codes (DESIGN.md): 0 all good; 1 a check, gate or verification failed; 2 bad usage, invalid
config or unreadable input; 3 an outside service failed after retries; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO, cast

from aikinklab_ops import __version__
from aikinklab_ops.commands import CommandContext, Document, discover
from aikinklab_ops.config import load_config, load_context
from aikinklab_ops.errors import OpsError
from aikinklab_ops.github.runtime import append_summary, mask_commands, write_outputs
from aikinklab_ops.progress import StreamProgress
from aikinklab_ops.report import Report
from aikinklab_ops.report.formats import FORMATS, render, render_markdown
from aikinklab_ops.secrets import Redactor

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_EXTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageExit(f"{self.prog}: {message}\n(see '{self.prog} --help')")


class _UsageExit(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aikinklab-ops",
        description="The AIKinkLab production runbook: gate, deploy, verify, roll back, back up.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: ./ops.yml, else the built-in defaults)")
    parser.add_argument(
        "--format", choices=FORMATS, help="output format (default: github under GitHub Actions, else text)"
    )
    parser.add_argument("--report-file", metavar="PATH", help="also write the JSON report to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in discover():
        module.register(sub)
    return parser


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        return True


def _setup_logging(stderr: TextIO, redactor: Redactor, verbose: bool) -> logging.Handler:
    handler = logging.StreamHandler(stderr)
    handler.addFilter(_RedactingFilter(redactor))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("aikinklab_ops")
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    return handler


def _emit(result: Report | Document, fmt: str, ctx: CommandContext, stdout: TextIO, report_file: str | None) -> int:
    redact = ctx.redactor
    outputs: dict[str, str] = {}
    report = result if isinstance(result, Report) else result.report
    if report is not None:
        data = report.to_dict()
        text = render(report, fmt)
        markdown: str | None = render_markdown(report)
        outputs["ok"] = "true" if report.ok else "false"
        outputs.update(report.outputs)
        code = EXIT_OK if report.ok else EXIT_FAILED
        if isinstance(result, Document):
            outputs.update(result.outputs)
            code = result.exit_code
    else:
        assert isinstance(result, Document)
        data, text, markdown, code = result.data, result.text, result.markdown, result.exit_code
        outputs.update(result.outputs)
    if report_file:
        path = Path(report_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(json.dumps(data, indent=2, default=str)) + "\n", encoding="utf-8")
        outputs["report"] = str(path)
    if fmt == "json":
        stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")
    else:
        stdout.write(redact(text if text.endswith("\n") or not text else text + "\n"))
    if fmt == "github":
        if ctx.run.github_step_summary and markdown:
            append_summary(ctx.run.github_step_summary, redact(markdown))
        if ctx.run.github_output:
            write_outputs(ctx.run.github_output, {k: redact(v) for k, v in outputs.items()})
    stdout.flush()
    return code


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    cwd: Path | None = None,
) -> int:
    env = dict(os.environ if env is None else env)
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    run_ctx = load_context(env)
    redactor = Redactor(
        [run_ctx.credentials.vercel_token or "", run_ctx.credentials.github_token or "", *run_ctx.secret_values]
    )
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except _UsageExit as err:
        stderr.write(redactor(str(err)) + "\n")
        return EXIT_USAGE
    except SystemExit as err:  # --help and --version
        return int(err.code or 0)
    fmt = args.format or ("github" if run_ctx.github_actions else "text")
    if fmt == "github":
        # Masks first: nothing this run prints may reach the log before the runner knows to hide it.
        stdout.write(mask_commands(redactor.secrets))
    handler = _setup_logging(stderr, redactor, args.verbose)
    work_dir = cwd or Path.cwd()
    ctx = CommandContext(
        config_path=args.config,
        env=env,
        run=run_ctx,
        redactor=redactor,
        stderr=stderr,
        cwd=work_dir,
        progress=lambda: StreamProgress(cast(TextIO, _RedactingStream(stderr, redactor))),
        _loader=lambda: load_config(args.config, env=env, cwd=work_dir),
    )
    if not getattr(args, "handler", None):
        parser.print_help(stderr)
        return EXIT_USAGE
    try:
        result = args.handler(args, ctx)
        if fmt == "github":
            # Secrets the config named only become known once it is loaded.
            extra = tuple(s for s in (ctx._config.secrets if ctx._config else ()) if s not in run_ctx.secret_values)
            stdout.write(mask_commands(extra))
        return _emit(result, fmt, ctx, stdout, args.report_file)
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except OpsError as err:
        label = type(err).__name__
        stderr.write(redactor(f"error ({label}): {err}") + "\n")
        if fmt == "github":
            message = err.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            stdout.write(redactor(f"::error title=aikinklab-ops {args.command}::{message}") + "\n")
        return err.exit_code
    finally:
        logging.getLogger("aikinklab_ops").removeHandler(handler)


class _RedactingStream:
    """A text stream that redacts what passes through (progress lines can carry URLs)."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream = stream
        self._redactor = redactor

    def write(self, text: str) -> int:
        return self._stream.write(self._redactor(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
