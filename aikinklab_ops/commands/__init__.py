"""CLI commands, one module each.

A command module defines ``register(subparsers)``, which adds its parser and sets a
``handler`` on it (usually its ``run``); ``handler(args, ctx)`` returns a ``Report`` or a
``Document``. Modules are discovered (those named ``_*`` are helpers, not commands), so a new
capability adds one file here and touches nothing shared.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aikinklab_ops.config import Config, RunContext
from aikinklab_ops.errors import InputError
from aikinklab_ops.progress import NullProgress, Progress
from aikinklab_ops.report import Report
from aikinklab_ops.secrets import Redactor


@dataclass(frozen=True)
class Document:
    """What a command that is not a check returns: data for JSON, text for a person."""

    data: Any
    text: str
    exit_code: int = 0
    outputs: Mapping[str, str] = field(default_factory=dict)
    # Markdown for the job summary under --format github, when there is something worth showing.
    markdown: str | None = None
    # A Report rendered in every format like any other, when the exit code must say more than
    # pass/fail (the pipeline's 3 for an outside failure). ``data``/``text``/``markdown`` are then unused.
    report: Report | None = None

    @classmethod
    def of_report(cls, report: Report, exit_code: int) -> Document:
        return cls(data=None, text="", exit_code=exit_code, report=report)


@dataclass
class CommandContext:
    env: Mapping[str, str]
    run: RunContext
    redactor: Redactor
    stderr: TextIO
    cwd: Path
    progress: Callable[[], Progress] = NullProgress
    _config: Config | None = None
    _loader: Callable[[], Config] | None = None

    @property
    def config(self) -> Config:
        """Loaded on first use, so ``--help`` and config-free commands never fail on a bad file."""
        if self._config is None:
            assert self._loader is not None
            self._config = self._loader()
            for secret in self._config.secrets:
                self.redactor.add(secret)
        return self._config

    def log(self, text: str) -> None:
        self.stderr.write(self.redactor(text) + "\n")
        self.stderr.flush()


Result = Report | Document


def input_file(path: Path | None, flag: str, cwd: Path, *, hint: str | None = None) -> Path | None:
    """``path`` from a flag, resolved against the command's working directory; missing is exit 2.

    Checked before any work starts, so a typo in a flag never costs a half-run.
    """
    if path is None:
        return None
    full = path if path.is_absolute() else cwd / path
    if not full.is_file():
        raise InputError(f"{path}: no such file ({flag})", hint=hint or f"pass an existing file to {flag}")
    return full


def discover() -> list[Any]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules
