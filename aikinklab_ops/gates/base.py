"""What every gate is: a name, the runbook's wording, and a function from a context to a result."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aikinklab_ops.config import Config
from aikinklab_ops.config.yamlfile import parse_yaml
from aikinklab_ops.errors import InputError
from aikinklab_ops.gates.settings import GateInputs, GatesSettings
from aikinklab_ops.report import CheckResult


class CommitCheck(Protocol):
    """One check run or commit status, as ``aikinklab_ops.github.checks`` returns it."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> str: ...  # "success" | "pending" | "failure"
    @property
    def conclusion(self) -> str: ...
    @property
    def url(self) -> str | None: ...


class CommitChecksSource(Protocol):
    """Where the tests gate reads a commit's checks from (GitHub, or a fake in tests)."""

    def commit_checks(self, sha: str) -> Sequence[CommitCheck]: ...


@dataclass(frozen=True)
class GateContext:
    cfg: Config
    settings: GatesSettings
    inputs: GateInputs
    github: CommitChecksSource | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    log: Callable[[str], None] = field(default=lambda _text: None)


@dataclass(frozen=True)
class Gate:
    name: str
    label: str
    run: Callable[[GateContext], CheckResult]


def require_file(path: Path, what: str, produced_by: str) -> Path:
    """A missing input is an error that says which workflow step should have written it."""
    if not path.exists():
        raise InputError(f"{path}: no such file ({what})", hint=f"it is usually written by {produced_by}")
    return path


def read_text(path: Path, what: str, produced_by: str) -> str:
    require_file(path, what, produced_by)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file ({what})")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read ({what}): {err}") from err


def parse_yaml_input(text: str, name: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """``parse_yaml`` for a gate's input file, where a value PyYAML cannot build is the file's fault."""
    try:
        return parse_yaml(text, name)
    except (ValueError, TypeError) as err:  # PyYAML's constructors raise these for e.g. ``!!int abc``
        raise InputError(
            f"{name}: not valid YAML: {err}", hint="quote the value, or write a real date as YYYY-MM-DD"
        ) from err
