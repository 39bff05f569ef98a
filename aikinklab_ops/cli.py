"""``aikinklab-ops``: parse, build, run, render, and map errors to exit codes in one place.

Exit codes (DESIGN.md): 0 all good; 1 a check, gate or verification failed; 2 bad usage, invalid
config or unreadable input; 3 an outside service failed after retries; 130 interrupted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from aikinklab_ops import __version__
from aikinklab_ops.commands import CommandContext, Document, discover
from aikinklab_ops.config import load_config, load_context
from aikinklab_ops.errors import InputError, OpsError
from aikinklab_ops.github.runtime import append_summary, mask_commands, write_outputs
from aikinklab_ops.progress import StreamProgress
from aikinklab_ops.report import Report
from aikinklab_ops.report.formats import FORMATS, escape_data, render, render_markdown
from aikinklab_ops.secrets import MASK, Redactor

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


def _redacted_json(data: Any, redact: Redactor) -> str:
    """JSON with the secrets masked inside its values, not in its text: masking the text could turn
    a number into ``***`` (invalid JSON) and would miss a secret that JSON escapes (``\\u00e4``)."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            text = json.dumps(value)
            return value if redact(text) == text else MASK
        if isinstance(value, Mapping):
            return {redact(str(k)): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return redact(str(value))

    return json.dumps(walk(data), indent=2)


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
        path = path if path.is_absolute() else ctx.cwd / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_redacted_json(data, redact) + "\n", encoding="utf-8")
        except OSError as err:
            raise InputError(
                f"--report-file {report_file}: cannot write it: {err.strerror or err}",
                hint="pass a file path in a writable folder",
            ) from err
        outputs["report"] = str(path)
    if fmt == "json":
        stdout.write(_redacted_json(data, redact) + "\n")
    else:
        stdout.write(redact(text if text.endswith("\n") or not text else text + "\n"))
    if fmt == "github":
        name = "GITHUB_STEP_SUMMARY"
        try:
            if ctx.run.github_step_summary and markdown:
                append_summary(ctx.run.github_step_summary, redact(markdown))
            name = "GITHUB_OUTPUT"
            if ctx.run.github_output:
                write_outputs(ctx.run.github_output, {k: redact(v) for k, v in outputs.items()})
        except OSError as err:
            raise InputError(
                f"${name} ({err.filename}): cannot write it: {err.strerror or err}",
                hint=f"unset {name} outside GitHub Actions, or point it at a writable file",
            ) from err
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
    except KeyboardInterrupt:  # Ctrl-C while the commands are still being imported
        stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except _UsageExit as err:
        stderr.write(redactor(str(err)) + "\n")
        words = list(argv if argv is not None else sys.argv[1:])
        if "--format=json" in words or any(a == "--format" and b == "json" for a, b in itertools.pairwise(words)):
            _error_document(stdout, "json", redactor, "", "UsageError", str(err).splitlines()[0], None, EXIT_USAGE)
        return EXIT_USAGE
    except SystemExit as err:  # --help and --version
        return int(err.code or 0)
    fmt = args.format or ("github" if run_ctx.github_actions else "text")
    masked = redactor.secrets
    if fmt == "github":
        # Masks first: nothing this run prints may reach the log before the runner knows to hide it.
        stdout.write(mask_commands(masked))
    handler = _setup_logging(stderr, redactor, args.verbose)
    work_dir = cwd or Path.cwd()
    ctx = CommandContext(
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
            # Secrets the config named (or a --url carried) only become known while the command runs.
            late = (*(ctx._config.secrets if ctx._config else ()), *redactor.secrets)
            known = {*masked, *run_ctx.secret_values}
            stdout.write(mask_commands(tuple(dict.fromkeys(s for s in late if s not in known))))
        return _emit(result, fmt, ctx, stdout, args.report_file)
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more can be delivered, and that is no crash.
        _silence_stdout(stdout)
        return EXIT_FAILED
    except OpsError as err:
        label = type(err).__name__
        stderr.write(redactor(f"error ({label}): {err}") + "\n")
        _error_document(stdout, fmt, redactor, args.command, label, err.message, err.hint, err.exit_code)
        return err.exit_code
    except Exception as err:  # the last line of defence: a bug must not print a traceback that may hold secrets
        label = type(err).__name__
        stderr.write(redactor(f"internal error ({label}): {err}") + "\n")
        stderr.write("this is a bug in aikinklab-ops; rerun with -v for the traceback, and please report it\n")
        if args.verbose:
            stderr.write(redactor(traceback.format_exc()))
        _error_document(stdout, fmt, redactor, args.command, label, str(err), None, EXIT_FAILED)
        return EXIT_FAILED
    finally:
        logging.getLogger("aikinklab_ops").removeHandler(handler)


def _error_document(
    stdout: TextIO, fmt: str, redact: Redactor, command: str, label: str, message: str, hint: str | None, code: int
) -> None:
    """What stdout carries when a command could not produce its result.

    Under ``--format json`` that is still exactly one JSON document, so a consumer piping into
    ``jq`` reads why instead of choking on nothing; under ``github`` it is an ``::error`` line.
    """
    if fmt == "json":
        doc = {"ok": False, "error": {"type": label, "message": message, "hint": hint, "exit_code": code}}
        stdout.write(_redacted_json(doc, redact) + "\n")
    elif fmt == "github":
        stdout.write(redact(f"::error title=aikinklab-ops {command}::{escape_data(message)}") + "\n")


def _silence_stdout(stdout: TextIO) -> None:
    """Point a broken stdout at /dev/null, so the interpreter's final flush does not complain."""
    if stdout is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


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
