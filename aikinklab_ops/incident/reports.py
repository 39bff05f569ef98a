"""Read a Report back from its JSON form (``--format json`` / ``--report-file`` of verify or monitor).

``incident open --from-report`` classifies such a file; a file that is not a report must say
where it is wrong, because it is usually the output of an earlier step that failed differently.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aikinklab_ops.errors import InputError
from aikinklab_ops.report import CheckResult, Report, Status

_STATUSES = {s.value for s in Status}


def report_from_dict(data: Any, *, where: str = "report") -> Report:
    if not isinstance(data, dict):
        raise InputError(
            f"{where}: expected a JSON object (a report), found {type(data).__name__}",
            hint="pass the file written by --report-file or --format json of verify or monitor",
        )
    kind = data.get("kind")
    checks = data.get("checks")
    if not isinstance(kind, str) or not isinstance(checks, list):
        raise InputError(
            f'{where}: not a report: it needs a "kind" string and a "checks" list',
            hint="pass the file written by --report-file or --format json of verify or monitor",
        )
    if not checks:
        raise InputError(f"{where}: the report has no checks, so there is nothing to classify")
    out = []
    for i, item in enumerate(checks):
        if not isinstance(item, dict):
            raise InputError(f"{where}: checks[{i}]: expected an object, found {type(item).__name__}")
        name, status, summary = item.get("name"), item.get("status"), item.get("summary", "")
        if not isinstance(name, str) or not name:
            raise InputError(f"{where}: checks[{i}].name: expected a check name")
        if status not in _STATUSES:
            raise InputError(
                f"{where}: checks[{i}].status: expected one of {', '.join(sorted(_STATUSES))}, "
                f"found {json.dumps(status)}"
            )
        details = item.get("details") or {}
        duration = item.get("duration_s") or 0.0
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            raise InputError(
                f"{where}: checks[{i}].duration_s: expected a number of seconds, found {json.dumps(duration)}"
            )
        out.append(
            CheckResult(
                name,
                Status(status),
                str(summary),
                details if isinstance(details, dict) else {},
                float(duration),
            )
        )
    started = datetime.now(timezone.utc)
    if isinstance(data.get("started_at"), str):
        with contextlib.suppress(ValueError):
            started = datetime.fromisoformat(data["started_at"].replace("Z", "+00:00"))
    target = data.get("target") if isinstance(data.get("target"), str) else None
    return Report(kind, tuple(out), target=target, started_at=started)


def load_report(path: Path) -> Report:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(
            f"{path}: cannot read the report: {err.strerror}",
            hint="pass the path of a JSON report (verify --report-file PATH)",
        ) from err
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not UTF-8 text (byte {err.start}), so not a JSON report",
            hint="pass the file written by --report-file (PowerShell's `>` writes UTF-16; use --report-file instead)",
        ) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}",
            hint="pass the file written by --report-file, not the text output",
        ) from err
    return report_from_dict(data, where=str(path))
