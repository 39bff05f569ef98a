"""Frozen results: "skipped" and "failed" are data, not exceptions.

A Report with no checks is refused at construction: an empty checklist proves nothing, and a
trivial pass is the most dangerous verdict this tool could give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from aikinklab_ops.errors import OpsError


class Status(str, Enum):
    PASS = "pass"  # noqa: S105
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def failing(self) -> bool:
        return self in (Status.FAIL, Status.ERROR)


_SEVERITY_ORDER = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 4}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status; PASS for an empty iterable is the caller's problem to avoid."""
    return max(statuses, key=_SEVERITY_ORDER.__getitem__, default=Status.PASS)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    # The runbook's wording of this check ("All tests passing"); the job summary renders checks
    # that have one as the runbook's checklist. Not part of the JSON contract.
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "details": dict(self.details),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class Report:
    kind: str
    checks: tuple[CheckResult, ...]
    target: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    duration_s: float = 0.0
    # Values a workflow step exposes as outputs (``$GITHUB_OUTPUT``), beyond ``ok``.
    outputs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.checks:
            raise ValueError(f"a {self.kind} report needs at least one check; an empty one proves nothing")
        object.__setattr__(self, "checks", tuple(self.checks))

    @property
    def ok(self) -> bool:
        return not any(c.status.failing for c in self.checks)

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.checks)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "target": self.target,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_s": round(self.duration_s, 3),
            "checks": [c.to_dict() for c in self.checks],
        }


def run_check(name: str, fn: Callable[[], CheckResult]) -> CheckResult:
    """Run one check so that its failure to *run* becomes an ``error`` result, not a crash.

    A check that cannot do its job (an input file it expected, a program it needs) says so as
    ``error`` with the message, and the rest of the report still gets made.
    """
    t0 = time.monotonic()
    try:
        result = fn()
    except OpsError as err:
        return CheckResult(name, Status.ERROR, str(err), {"error": type(err).__name__}, time.monotonic() - t0)
    return replace(result, duration_s=time.monotonic() - t0)
